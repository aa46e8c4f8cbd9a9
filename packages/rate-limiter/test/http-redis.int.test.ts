/**
 * The HTTP adapters over one real Redis: an Express and a Fastify server sharing a store (as two
 * services behind one load balancer would) admit exactly the limit between them.
 */
import { requireService, serviceUrl, uniqueName } from '@noa/testkit';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { redisStore } from '../src/redis.js';
import { startExpress, startFastify, type TestServer } from './http-servers.js';

const redis = await requireService('redis');

describe.skipIf(!redis.available)('Express and Fastify sharing one Redis store over HTTP', () => {
  const client = new Redis(serviceUrl('redis'));
  const prefix = uniqueName('rl_http');
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
    const keys = await client.keys(`${prefix}*`);
    if (keys.length) await client.del(...keys);
    client.disconnect();
  });

  it.each(['sliding-window', 'token-bucket'] as const)(
    '%s: concurrent requests to both servers admit exactly the limit',
    async (algorithm) => {
      const options = {
        algorithm,
        limit: 7,
        windowMs: 3_600_000,
        name: algorithm,
        store: redisStore({ client, prefix }),
      };
      const pair = [await startExpress(options), await startFastify(options)];
      servers.push(...pair);
      const responses = await Promise.all(
        Array.from({ length: 30 }, (_, i) => request(`${pair[i % 2]!.url}/a`)),
      );
      for (const res of responses) await res.body.dump();
      const codes = responses.map((res) => res.statusCode);
      expect(codes.filter((code) => code === 200)).toHaveLength(7);
      expect(codes.filter((code) => code === 429)).toHaveLength(23);
      // Both servers read the same Redis state: each now sees the key as spent.
      for (const server of pair) {
        const res = await request(`${server.url}/a`);
        await res.body.dump();
        expect(res.statusCode).toBe(429);
        expect(res.headers['x-ratelimit-remaining']).toBe('0');
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      }
    },
  );
});
