import { requireService, uniqueName } from '@noa/testkit';
import { describe } from 'vitest';
import { redisProvider } from '../src/providers/redis.js';
import { queueContract } from './contract.js';
import { deleteRedisPrefix } from './fixtures/cleanup.js';

const redis = await requireService('redis');
const prefix = uniqueName('mq');

describe.skipIf(!redis.available)('redis provider', () => {
  queueContract('redis', {
    create: () => redisProvider({ connection: redis.url, prefix, pollMs: 500 }),
    cleanup: () => deleteRedisPrefix(redis.url, prefix),
  });
});
