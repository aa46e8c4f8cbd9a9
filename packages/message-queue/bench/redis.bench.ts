import { type BenchTable, compare, renderText, uniqueName } from '@noa/testkit';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createQueueManager } from '../src/index.js';
import { redisProvider } from '../src/providers/redis.js';
import { counter, drainTable, managerDrain } from './drain.js';
import type { LatencySubject } from './latency.bench.js';

/** BullMQ in the latency table, as the peer of the Redis provider. */
export function bullmqSubject(url: string, prefix: string): LatencySubject {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue('latency', { connection, prefix, defaultJobOptions: { removeOnComplete: true } });
  return {
    name: 'bullmq (same Redis)',
    start: async (seen) => {
      const workerConnection = connection.duplicate();
      const worker = new Worker('latency', async (job) => seen(job.data.sentAt), {
        connection: workerConnection,
        prefix,
        concurrency: 50,
      });
      await worker.waitUntilReady();
      return async () => {
        await worker.close();
        await queue.obliterate({ force: true });
        await queue.close();
        workerConnection.disconnect();
        connection.disconnect();
      };
    },
    publish: (sentAt) => queue.add('job', { sentAt }),
  };
}

/** @noa/message-queue's Redis provider against BullMQ: add, addBulk, and Worker at concurrency 1 and 100. */
export async function redisBench(url: string, quick: boolean): Promise<BenchTable[]> {
  const timeMs = quick ? 200 : 500;
  const rounds = quick ? 2 : 5;
  const prefix = uniqueName('mqbench');
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const mq = createQueueManager({
    provider: redisProvider({ connection: url, prefix }),
    closeOnSignals: false,
  });
  const bullPrefix = `${prefix}_bull`;
  const queues: Queue[] = [];
  const bullQueue = (name: string) => {
    const q = new Queue(name, {
      connection,
      prefix: bullPrefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
    });
    queues.push(q);
    return q;
  };
  const tables: BenchTable[] = [];
  const data = { to: 'ada@example.com', template: 'welcome', n: 1 };

  const publishQueue = `${prefix}-publish`;
  const addQueue = bullQueue(`${prefix}-add`);
  tables.push(
    (
      await compare(
        'Redis: publish one job (await each)',
        {
          '@noa/message-queue publish': () => mq.publish(publishQueue, data),
          'bullmq Queue.add': () => addQueue.add('job', data),
        },
        { id: 'mq-redis-publish', timeMs, rounds },
      )
    ).table,
  );
  const batch = Array.from({ length: 100 }, () => ({ data }));
  const bulk = Array.from({ length: 100 }, () => ({ name: 'job', data }));
  tables.push(
    (
      await compare(
        'Redis: publish a batch of 100 jobs',
        {
          '@noa/message-queue publishBatch': () => mq.publishBatch(publishQueue, batch),
          'bullmq Queue.addBulk': () => addQueue.addBulk(bulk),
        },
        { id: 'mq-redis-publish-batch', timeMs, rounds, notes: ['ops/s are batches of 100 jobs'] },
      )
    ).table,
  );
  // Drop the piles the publish benchmarks left behind before measuring consumers.
  await connection.del(...(await connection.keys(`${prefix}:{${publishQueue}}:*`)));
  await addQueue.obliterate({ force: true });

  for (const concurrency of [1, 100]) {
    const count = quick ? (concurrency === 1 ? 500 : 2_000) : concurrency === 1 ? 2_000 : 10_000;
    const ours = `${prefix}-c${concurrency}`;
    const theirsQueue = bullQueue(`${prefix}-bull-c${concurrency}`);
    const table = await drainTable(
      `mq-redis-process-c${concurrency}`,
      `Redis: process jobs with a no-op handler, concurrency ${concurrency}`,
      {
        '@noa/message-queue worker': managerDrain(mq, ours, data, concurrency),
        'bullmq Worker': {
          fill: async (n) => {
            for (let i = 0; i < n; i += 1000)
              await theirsQueue.addBulk(
                Array.from({ length: Math.min(1000, n - i) }, () => ({ name: 'job', data })),
              );
          },
          drain: async (n) => {
            const seen = counter();
            const done = seen.until(n);
            const workerConnection = connection.duplicate();
            const worker = new Worker(theirsQueue.name, async () => seen.hit(), {
              connection: workerConnection,
              prefix: bullPrefix,
              concurrency,
            });
            await done;
            await worker.close();
            workerConnection.disconnect();
          },
        },
      },
      { count, rounds: quick ? 1 : 3 },
    );
    console.log(renderText(table));
    tables.push(table);
  }

  await mq.close();
  for (const q of queues) {
    await q.obliterate({ force: true }).catch(() => {});
    await q.close();
  }
  const leftovers = await connection.keys(`${prefix}*`);
  if (leftovers.length) await connection.del(...leftovers);
  connection.disconnect();
  return tables;
}
