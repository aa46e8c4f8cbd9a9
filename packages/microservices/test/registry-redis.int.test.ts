import { requireService, serviceUrl, uniqueName } from '@noa/testkit';
import { Redis } from 'ioredis';
import { describe } from 'vitest';
import { redisRegistry } from '../src/backends/redis.js';
import { registryContract } from './contract.js';

const redis = await requireService('redis');
const prefix = uniqueName('registry');
const clients: Redis[] = [];

describe.skipIf(!redis.available)('redis registry', () => {
  registryContract('redis', {
    create: () => {
      const client = new Redis(serviceUrl('redis'));
      clients.push(client);
      return redisRegistry({ client, prefix, pollIntervalMs: 1_000 });
    },
    async cleanup() {
      const keys = await clients[0]!.keys(`${prefix}*`);
      if (keys.length) await clients[0]!.del(...keys);
      await Promise.all(clients.map((c) => c.quit()));
    },
  });
});
