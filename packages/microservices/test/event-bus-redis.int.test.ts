import { createQueueManager } from '@noa/message-queue';
import { redisProvider } from '@noa/message-queue/redis';
import { requireService, serviceUrl, uniqueName, waitUntil } from '@noa/testkit';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisRegistry } from '../src/backends/redis.js';
import { createEventBus, createServiceRegistry } from '../src/index.js';

const redis = await requireService('redis');

describe.skipIf(!redis.available)('event bus over @noa/message-queue (Redis provider, real Redis)', () => {
  it('fans out across processes: one copy per group, each event once within a group whose workers run in two processes', async () => {
    const prefix = uniqueName('evbus');
    const admin = new Redis(serviceUrl('redis'));
    // Two "processes": each its own queue manager and registry client on the same Redis.
    const sides = [0, 1].map(() => {
      const client = new Redis(serviceUrl('redis'));
      const mq = createQueueManager({
        provider: redisProvider({ connection: serviceUrl('redis'), prefix: `${prefix}:mq`, pollMs: 200 }),
      });
      const registry = createServiceRegistry({ backend: redisRegistry({ client, prefix: `${prefix}:reg` }) });
      const bus = createEventBus({ queue: mq, registry, prefix: 'ev', groupCacheMs: 0 });
      return { client, mq, registry, bus };
    });
    try {
      const [a, b] = sides as [(typeof sides)[0], (typeof sides)[0]];
      const email: number[] = [];
      const billing: [string, number][] = [];
      await a.bus.subscribe<{ n: number }>('order.paid', 'email', (e) => void email.push(e.payload.n));
      await a.bus.subscribe<{ n: number }>(
        'order.paid',
        'billing',
        (e) => void billing.push(['a', e.payload.n]),
      );
      await b.bus.subscribe<{ n: number }>(
        'order.paid',
        'billing',
        (e) => void billing.push(['b', e.payload.n]),
      );
      // Published from a process that subscribes to nothing here: the groups come from the registry KV.
      const publisher = createEventBus({ queue: sides[1]!.mq, registry: sides[1]!.registry, prefix: 'ev' });
      for (let n = 0; n < 20; n++)
        expect((await publisher.publish('order.paid', { n })).groups).toEqual(['billing', 'email']);
      await waitUntil(() => email.length === 20 && billing.length === 20, {
        message: 'every group got every event',
        timeoutMs: 8_000,
      });
      expect([...email].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(new Set(billing.map(([, n]) => n)).size).toBe(20); // each once within the group
      await publisher.close();
    } finally {
      for (const side of sides) {
        await side.bus.close();
        await side.mq.close();
        await side.registry.close();
        await side.client.quit();
      }
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length) await admin.del(...keys);
      await admin.quit();
    }
  });
});
