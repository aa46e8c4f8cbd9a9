import { requireService, uniqueName, waitUntil } from '@noa/testkit';
import { connect } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { createQueueManager } from '../src/index.js';
import { rabbitmqProvider } from '../src/providers/rabbitmq.js';
import { queueContract } from './contract.js';
import { deleteRabbitQueues } from './fixtures/cleanup.js';

const rabbit = await requireService('rabbitmq');

describe.skipIf(!rabbit.available)('rabbitmq provider', () => {
  queueContract('rabbitmq', {
    create: () => rabbitmqProvider({ connection: rabbit.url }),
    cleanup: (queues) => deleteRabbitQueues(rabbit.url, queues),
  });

  describe('broker-side dead-lettering', () => {
    const queue = uniqueName('mqxdeath');
    afterAll(() => deleteRabbitQueues(rabbit.url, [queue]));

    it('lists a message the broker dead-lettered with its reason and the time from x-death', async () => {
      await using mq = createQueueManager({
        provider: rabbitmqProvider({ connection: rabbit.url }),
        closeOnSignals: false,
      });
      await mq.stats(queue); // declares the queue and its dead-letter queue
      const connection = await connect(rabbit.url);
      try {
        const channel = await connection.createConfirmChannel();
        const before = Date.now();
        // Expires at once with no consumer: RabbitMQ moves it to <queue>.dead with an x-death header.
        channel.sendToQueue(queue, Buffer.from('not a job'), { persistent: true, expiration: '1' });
        await channel.waitForConfirms();
        await waitUntil(async () => (await mq.deadLetters(queue).list()).length === 1, {
          timeoutMs: 15_000,
          intervalMs: 50,
          message: 'the expired message reaches the dead-letter queue',
        });
        const dead = await mq.deadLetters(queue).list();
        expect(dead[0]!.data).toBe('not a job');
        expect(dead[0]!.error).toContain('expired');
        // AMQP timestamps have one-second resolution.
        expect(dead[0]!.failedAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
        expect(dead[0]!.failedAt).toBeLessThanOrEqual(Date.now());
      } finally {
        await connection.close();
      }
    });
  });
});
