/**
 * @noa/rate-limiter benchmarks: memory store and Redis store against rate-limiter-flexible and
 * express-rate-limit, middleware overhead against express-rate-limit and @fastify/rate-limit, and
 * the accuracy of each algorithm. Run: pnpm --filter @noa/rate-limiter bench (NOA_BENCH_QUICK=1 for a short run)
 */
import { fileURLToPath } from 'node:url';
import { type BenchTable, writeBenchResults } from '@noa/testkit';
import { accuracyBench } from './accuracy.bench.js';
import { httpBench } from './http.bench.js';
import { memoryBench } from './memory.bench.js';
import { redisBench } from './redis.bench.js';

const quick = process.env.NOA_BENCH_QUICK === '1';
const timeMs = quick ? 150 : 500;
const rounds = quick ? 2 : 5;

const tables: BenchTable[] = [
  ...(await memoryBench({ timeMs, rounds })),
  ...(await redisBench({ timeMs: quick ? 300 : 1_000, rounds: quick ? 2 : 3 })),
  ...(await httpBench({ quick })),
  ...(await accuracyBench()),
];
const file = writeBenchResults(fileURLToPath(new URL('..', import.meta.url)), 'rate-limiter', tables);
console.log(`\nwrote ${file}`);
