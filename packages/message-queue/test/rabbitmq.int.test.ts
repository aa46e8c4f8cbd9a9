import { requireService } from '@noa/testkit';
import { describe } from 'vitest';
import { rabbitmqProvider } from '../src/providers/rabbitmq.js';
import { queueContract } from './contract.js';
import { deleteRabbitQueues } from './fixtures/cleanup.js';

const rabbit = await requireService('rabbitmq');

describe.skipIf(!rabbit.available)('rabbitmq provider', () => {
  queueContract('rabbitmq', {
    create: () => rabbitmqProvider({ connection: rabbit.url }),
    cleanup: (queues) => deleteRabbitQueues(rabbit.url, queues),
  });
});
