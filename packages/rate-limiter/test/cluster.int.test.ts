/**
 * Redis Cluster (scripts/services/20-redis-cluster.sh, 127.0.0.1:7000-7002): every key's Redis keys
 * share a hash tag, so one script call works on whichever node owns the slot.
 */
import { isReachable, uniqueName } from '@noa/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRateLimiter } from '../src/index.js';
import { redisStore } from '../src/redis.js';
import { ALGORITHMS } from './contract.js';

const nodes = (process.env.REDIS_CLUSTER_NODES ?? '127.0.0.1:7000').split(',').map((address) => {
  const [host, port] = address.trim().split(':');
  return { host: host!, port: Number(port) };
});
const reachable = await isReachable(`redis://${nodes[0]!.host}:${nodes[0]!.port}`);
if (!reachable) {
  console.warn(
    `Redis Cluster not reachable at ${nodes[0]!.host}:${nodes[0]!.port}; start it with scripts/services/20-redis-cluster.sh`,
  );
}

describe.skipIf(!reachable)('redis store on Redis Cluster', () => {
  const cluster = new Redis.Cluster(nodes);
  const prefix = uniqueName('rl_cluster');
  afterAll(() => cluster.disconnect());

  it.each(ALGORITHMS)('%s: keys spread over the nodes, each decision one script call', async (algorithm) => {
    const store = redisStore({ client: cluster, prefix });
    const limiter = createRateLimiter({
      algorithm,
      limit: 2,
      windowMs: 60_000,
      name: algorithm,
      store,
      blockAfterViolations: 2,
    });
    const keys = Array.from({ length: 12 }, (_, i) => `user:${i}`);
    const slots = new Set(
      await Promise.all(
        keys.map((key) => cluster.call('CLUSTER', 'KEYSLOT', store.keysOf(`${algorithm}:${key}`)[0])),
      ),
    );
    for (const key of keys) {
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push((await limiter.consume(key)).reason);
      expect(decisions).toEqual(['allowed', 'allowed', 'limited', 'blocked']);
    }
    expect(slots.size).toBeGreaterThan(1);
    for (const key of keys) await limiter.reset(key);
  });
});
