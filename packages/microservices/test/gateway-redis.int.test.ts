import { redisStore } from '@noa/rate-limiter/redis';
import { requireService, serviceUrl, uniqueName } from '@noa/testkit';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { redisRegistry } from '../src/backends/redis.js';
import { createGateway } from '../src/gateway.js';
import { createServiceRegistry } from '../src/index.js';
import { startUpstream } from './helpers.js';

const redis = await requireService('redis');

describe.skipIf(!redis.available)('gateway with Redis (registry + shared rate limits)', () => {
  it('two gateway replicas sharing a Redis store admit exactly the limit in total', async () => {
    const client = new Redis(serviceUrl('redis'));
    const prefix = uniqueName('gw');
    const registry = createServiceRegistry({ backend: redisRegistry({ client, prefix: `${prefix}:reg` }) });
    const name = uniqueName('users');
    const upstream = await startUpstream(registry, name);
    const store = redisStore({ client, prefix: `${prefix}:rl` });
    const routes = [{ prefix: '/u', service: name, rateLimit: { limit: 10, windowMs: 60_000, store } }];
    const a = createGateway({ registry, routes });
    const b = createGateway({ registry, routes });
    try {
      const [ua, ub] = [await a.listen(), await b.listen()];
      const statuses = await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          const res = await request(`${i % 2 ? ua.url : ub.url}/u/x`);
          await res.body.dump();
          return res.statusCode;
        }),
      );
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.filter((s) => s === 429)).toHaveLength(20);
      expect(upstream.hits).toBe(10);
    } finally {
      await a.close();
      await b.close();
      await upstream.kill();
      await registry.close();
      const keys = await client.keys(`${prefix}*`);
      if (keys.length) await client.del(...keys);
      await client.quit();
    }
  });
});
