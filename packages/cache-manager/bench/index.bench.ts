/**
 * @noa/cache-manager benchmarks. Run: pnpm --filter @noa/cache-manager bench (NOA_BENCH_QUICK=1 for a short run).
 */
import { fileURLToPath } from 'node:url';
import { type BenchTable, writeBenchResults } from '@noa/testkit';
import { type BenchSettings, cacheApiSpeed, hitRateTable, memoryCacheSpeed } from './memory.bench.js';
import { redisBenchmarks } from './redis.bench.js';

const quick = process.env.NOA_BENCH_QUICK === '1';
const settings: BenchSettings = { quick, timeMs: quick ? 100 : 400, rounds: quick ? 2 : 5 };
const tables: BenchTable[] = [];

// Redis and timing tables first: the hit-rate simulation leaves hundreds of MB of trace garbage
// whose collection would land in whatever runs after it (it showed as 60 ms outliers).
tables.push(...(await redisBenchmarks(settings)));
tables.push(...(await memoryCacheSpeed(settings)));
tables.push(...(await cacheApiSpeed(settings)));
tables.push(hitRateTable(settings));

const file = writeBenchResults(fileURLToPath(new URL('..', import.meta.url)), 'cache-manager', tables);
console.log(`\nwrote ${file}`);
