/**
 * @noa/database-optimizer benchmarks: the reference workload before and after recommendIndexes
 * (against the naive one-index-per-column fix), and the N+1 detector's per-statement overhead.
 * Run: pnpm --filter @noa/database-optimizer bench (NOA_BENCH_QUICK=1 for a short run).
 */
import { fileURLToPath } from 'node:url';
import { type BenchTable, writeBenchResults } from '@noa/testkit';
import { n1Bench } from './n1.bench.js';
import { workloadBench } from './workload.bench.js';

const tables: BenchTable[] = [];
tables.push(...(await n1Bench()));
tables.push(...(await workloadBench()));
const file = writeBenchResults(fileURLToPath(new URL('..', import.meta.url)), 'database-optimizer', tables);
console.log(`\nresults: ${file}`);
