/**
 * @noa/cdn-manager benchmarks: requests per provider vs the documented minimum, backlog drain time
 * under the documented rate limits (simulated clock), and the asset pipeline vs the same tools run
 * directly. Run: pnpm --filter @noa/cdn-manager bench
 */
import { fileURLToPath } from 'node:url';
import { type BenchTable, renderText, writeBenchResults } from '@noa/testkit';
import { assetsTable } from './assets.bench.js';
import { drainTable, requestTables } from './purge.bench.js';

const quick = process.env.NOA_BENCH_QUICK === '1';
const tables: BenchTable[] = [...requestTables(), await drainTable(), await assetsTable(quick)];
for (const table of tables) console.log(renderText(table));
const file = writeBenchResults(fileURLToPath(new URL('..', import.meta.url)), 'cdn-manager', tables);
console.log(`\nwrote ${file}`);
