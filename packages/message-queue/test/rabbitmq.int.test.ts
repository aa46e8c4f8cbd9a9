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

  describe('schedules', () => {
    const queue = uniqueName('mqleader');
    afterAll(() => deleteRabbitQueues(rabbit.url, [queue]));

    it('a stopped schedule gives up the leader lock: another scheduler takes over while the first manager stays open', async () => {
      const manager = () =>
        createQueueManager({ provider: rabbitmqProvider({ connection: rabbit.url }), closeOnSignals: false });
      await using first = manager();
      await using second = manager();
      await using worker = manager();
      const name = `${queue}-tick`;
      const ticks: number[] = [];
      worker.process(queue, (job) => {
        ticks.push(Number(job.id.split('@')[1]));
      });
      const wait = (what: () => boolean, message: string) =>
        waitUntil(what, { timeoutMs: 8_000, intervalMs: 25, message });
      const leader = await first.schedule(name, { cron: '* * * * * *', queue });
      await wait(() => ticks.length >= 1, 'the first scheduler fires');
      await second.schedule(name, { cron: '* * * * * *', queue }); // a follower while the first leads
      leader.stop();
      const stoppedAt = Date.now();
      await wait(() => ticks.filter((t) => t > stoppedAt).length >= 2, 'the second scheduler fires');
      expect(new Set(ticks).size).toBe(ticks.length);
    });
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
