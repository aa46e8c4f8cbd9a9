/** Memory store: checks/s on one hot key and across 10k keys, against rate-limiter-flexible and express-rate-limit. */
import { type BenchTable, compare } from '@noa/testkit';
import { MemoryStore as ExpressMemoryStore } from 'express-rate-limit';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { type Algorithm, createRateLimiter } from '../src/index.js';

import { type BenchOptions, keyRotation, NEVER_REACHED as LIMIT } from './shared.js';

const WINDOW_MS = 1_000;

export async function memoryBench({ timeMs, rounds }: BenchOptions): Promise<BenchTable[]> {
  const tables: BenchTable[] = [];
  for (const [id, title, keyCount] of [
    ['rate-limiter-memory-one-key', 'Memory store: consume() on one hot key', 1],
    ['rate-limiter-memory-10k-keys', 'Memory store: consume() across 10,000 keys', 10_000],
  ] as const) {
    const nextKey = keyRotation(keyCount);
    const ours = (algorithm: Algorithm) => {
      const limiter = createRateLimiter({ algorithm, limit: LIMIT, windowMs: WINDOW_MS });
      return () => limiter.consume(nextKey());
    };
    const rlf = new RateLimiterMemory({ points: LIMIT, duration: WINDOW_MS / 1000 });
    const erl = new ExpressMemoryStore();
    erl.init({ windowMs: WINDOW_MS } as never);
    const result = await compare(
      title,
      {
        '@noa/rate-limiter fixed-window': ours('fixed-window'),
        '@noa/rate-limiter gcra': ours('gcra'),
        '@noa/rate-limiter token-bucket': ours('token-bucket'),
        '@noa/rate-limiter sliding-window (exact log)': ours('sliding-window'),
        'rate-limiter-flexible RateLimiterMemory': () => rlf.consume(nextKey()),
        "express-rate-limit's MemoryStore": async () => (await erl.increment(nextKey())).totalHits <= LIMIT,
      },
      {
        id,
        timeMs,
        rounds,
        notes: [
          'every call admitted (limit 10^9 per 1 s window); all three return a promise per call',
          'rate-limiter-flexible and express-rate-limit count fixed windows; compare their rows with ours fixed-window',
        ],
      },
    );
    tables.push(result.table);
    erl.shutdown();
  }
  return tables;
}
