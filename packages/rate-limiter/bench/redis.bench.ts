/** Redis store: decisions/s and p99 with 64 in flight from one process, against rate-limiter-flexible's RateLimiterRedis. */
import { type BenchTable, compare, isReachable, serviceUrl, uniqueName } from '@noa/testkit';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { type Algorithm, createRateLimiter } from '../src/index.js';
import { redisStore } from '../src/redis.js';

import { type BenchOptions, keyRotation, NEVER_REACHED as LIMIT } from './shared.js';

const WINDOW_MS = 60_000;
const KEYS = 10_000;

export async function redisBench({ timeMs, rounds }: BenchOptions): Promise<BenchTable[]> {
  const url = serviceUrl('redis');
  if (!(await isReachable(url))) {
    console.log(
      `\nskipping the Redis benchmark: Redis is not reachable at ${url} (scripts/services/up.sh starts it)`,
    );
    return [];
  }
  const prefix = uniqueName('rl_bench');
  const plain = new Redis(url);
  // The same library with ioredis batching the commands of one tick (what our store does itself).
  const autoPipelined = new Redis(url, { enableAutoPipelining: true });
  const nextKey = keyRotation(KEYS);
  const ours = (algorithm: Algorithm, client: Redis) => {
    const limiter = createRateLimiter({
      algorithm,
      limit: LIMIT,
      windowMs: WINDOW_MS,
      name: algorithm,
      store: redisStore({ client, prefix }),
    });
    return () => limiter.consume(nextKey());
  };
  const rlf = (client: Redis) => {
    const limiter = new RateLimiterRedis({
      storeClient: client,
      keyPrefix: `${prefix}:rlf`,
      points: LIMIT,
      duration: WINDOW_MS / 1000,
    });
    return () => limiter.consume(nextKey());
  };
  try {
    const result = await compare(
      'Redis store: consume() with 64 in flight from one process, 10,000 keys',
      {
        '@noa/rate-limiter fixed-window': ours('fixed-window', plain),
        '@noa/rate-limiter gcra': ours('gcra', plain),
        '@noa/rate-limiter sliding-window': ours('sliding-window', plain),
        'rate-limiter-flexible RateLimiterRedis': rlf(plain),
        'rate-limiter-flexible RateLimiterRedis, client with enableAutoPipelining': rlf(autoPipelined),
      },
      {
        id: 'rate-limiter-redis',
        timeMs,
        rounds,
        concurrency: 64,
        notes: [
          'one ioredis client with default options shared by all rows but the last; Redis 7 on the same (shared, 2-core) machine',
          'ours: one EVALSHA per decision on server time (fixed window: INCRBY on a key whose expiry ends the window; GCRA and sliding window: TIME); the calls of one tick go out in socket writes of 8 calls each (coalesceWrites, default on)',
          "rate-limiter-flexible: its fixed-window script, one write per call; last row: ioredis' own auto-pipelining batches its calls",
        ],
      },
    );
    return [result.table];
  } finally {
    let cursor = '0';
    do {
      const [next, found] = await plain.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (found.length) await plain.unlink(...found);
    } while (cursor !== '0');
    plain.disconnect();
    autoPipelined.disconnect();
  }
}
