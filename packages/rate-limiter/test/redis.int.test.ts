import { requireService, serviceUrl, uniqueName } from '@noa/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRateLimiter } from '../src/index.js';
import { redisStore } from '../src/redis.js';
import { storeContract } from './contract.js';

const redis = await requireService('redis');

describe.skipIf(!redis.available)('redis store', () => {
  const client = new Redis(serviceUrl('redis'), { lazyConnect: false });
  const prefix = uniqueName('rl_redis');
  afterAll(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length) await client.del(...keys);
    client.disconnect();
  });

  storeContract('redis', () => redisStore({ client, prefix }));

  it('keeps all of a key in one hash-tag slot, with expiries', async () => {
    const store = redisStore({ client, prefix });
    const [state, blk, log, vio] = store.keysOf('user:{odd}:1');
    expect([state, log, blk, vio].map((k) => k.slice(0, state.length))).toEqual([state, state, state, state]);
    const rl = createRateLimiter({ algorithm: 'sliding-window', limit: 3, windowMs: 60_000, store });
    await rl.consume('ttl');
    const [s, , l] = store.keysOf('ttl');
    expect(await client.pttl(s)).toBeGreaterThan(50_000);
    expect(await client.pttl(l)).toBeGreaterThan(50_000);
  });

  it('writes the calls of one tick in small groups, uncorks afterwards, and is exact either way', async () => {
    await client.ping();
    const stream = client.stream as typeof client.stream & {
      _write: (...args: unknown[]) => void;
      _writev: (...args: unknown[]) => void;
    };
    let writes = 0;
    const { _write, _writev } = stream;
    stream._write = function (...args) {
      writes++;
      return _write.apply(this, args);
    };
    stream._writev = function (...args) {
      writes++;
      return _writev.apply(this, args);
    };
    try {
      for (const coalesceWrites of [true, false]) {
        const limiter = createRateLimiter({
          algorithm: 'fixed-window',
          limit: 50,
          windowMs: 60_000,
          name: `coalesce-${coalesceWrites}`,
          store: redisStore({ client, prefix, coalesceWrites }),
        });
        writes = 0;
        const decisions = Array.from({ length: 200 }, () => limiter.consume('k'));
        const duringTick = writes;
        expect(client.stream.writableCorked).toBe(coalesceWrites ? 1 : 0);
        const settled = await Promise.all(decisions);
        if (coalesceWrites) {
          // Groups of 8 go out while the tick still runs (not one write at its end, not one per call).
          expect(duringTick).toBeGreaterThan(1);
          expect(writes).toBeLessThanOrEqual(200 / 8 + 1);
        } else expect(writes).toBeGreaterThan(200 / 8 + 1);
        expect(settled.filter((d) => d.allowed)).toHaveLength(50);
        expect(settled.filter((d) => d.reason === 'limited')).toHaveLength(150);
        expect(client.stream.writableCorked).toBe(0);
      }
    } finally {
      stream._write = _write;
      stream._writev = _writev;
    }
  });
});
