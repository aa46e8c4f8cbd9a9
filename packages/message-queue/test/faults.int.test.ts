/**
 * Fault tests: a worker process killed with SIGKILL mid-run loses no job (Redis, RabbitMQ, SQS);
 * SIGTERM closes a worker gracefully with nothing left active; a broker restarted mid-run (our own
 * redis-server and our own second RabbitMQ node, never the shared ones) loses no job either.
 */

import { existsSync } from 'node:fs';
import { isReachable, requireService, uniqueName, waitUntil } from '@noa/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createQueueManager, type QueueManager, type QueueProvider } from '../src/index.js';
import { rabbitmqProvider } from '../src/providers/rabbitmq.js';
import { redisProvider } from '../src/providers/redis.js';
import { sqsProvider } from '../src/providers/sqs.js';
import { freePort, OwnRabbit, startDurableRedis, WorkerChild } from './fixtures/processes.js';

const redis = await requireService('redis');
const rabbit = await requireService('rabbitmq');
const sqsEndpoint = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:4566';
const sqsUp = await isReachable(sqsEndpoint);
const sqsConfig = {
  endpoint: sqsEndpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};

const cases: {
  name: string;
  available: boolean;
  connection: string;
  provider: () => QueueProvider;
  queue: () => string;
}[] = [
  {
    name: 'redis',
    available: redis.available,
    connection: redis.url,
    provider: () => redisProvider({ connection: redis.url, pollMs: 200 }),
    queue: () => uniqueName('kill'),
  },
  {
    name: 'rabbitmq',
    available: rabbit.available,
    connection: rabbit.url,
    provider: () => rabbitmqProvider({ connection: rabbit.url }),
    queue: () => uniqueName('kill'),
  },
  {
    name: 'sqs',
    available: sqsUp,
    connection: sqsEndpoint,
    provider: () => sqsProvider({ clientConfig: sqsConfig, waitTimeSeconds: 1 }),
    queue: () => uniqueName('kill').replace(/_/g, '-'),
  },
];

describe('worker process killed with SIGKILL mid-run', () => {
  for (const c of cases) {
    it.skipIf(!c.available)(`${c.name}: every published job completes, none lost`, async () => {
      const queue = c.queue();
      const mq = createQueueManager({ provider: c.provider(), closeOnSignals: false });
      try {
        const total = 120;
        const ids = (
          await mq.publishBatch(
            queue,
            Array.from({ length: total }, (_, i) => ({ data: i })),
          )
        ).map((r) => r.id);
        const child = new WorkerChild([c.name, c.connection, queue, '20', '4']);
        await child.ready();
        await waitUntil(() => child.done.size >= 20, {
          timeoutMs: 30_000,
          message: 'child completed 20 jobs',
        });
        child.process.kill('SIGKILL');
        await child.exited;
        const inFlightAtKill = [...child.started].filter((id) => !child.done.has(id));

        const done = new Set(child.done);
        mq.process(
          queue,
          (job) => {
            done.add(job.id);
          },
          { concurrency: 8, lockMs: 1_000 },
        );
        await waitUntil(() => ids.every((id) => done.has(id)), {
          timeoutMs: 60_000,
          message: 'every job completed',
        });
        expect(ids.filter((id) => !done.has(id))).toEqual([]);
        expect(inFlightAtKill.every((id) => done.has(id))).toBe(true);
      } finally {
        await mq.close({ timeoutMs: 2_000 });
      }
    });
  }
});

describe.skipIf(!redis.available)('SIGTERM', () => {
  it('redis: the worker finishes its active jobs, then exits; nothing is left active', async () => {
    const queue = uniqueName('term');
    const mq = createQueueManager({
      provider: redisProvider({ connection: redis.url }),
      closeOnSignals: false,
    });
    try {
      await mq.publishBatch(
        queue,
        Array.from({ length: 30 }, (_, i) => ({ data: i })),
      );
      const child = new WorkerChild(['redis', redis.url, queue, '300', '3']);
      await child.ready();
      await waitUntil(() => child.started.size >= 3, { timeoutMs: 15_000 });
      child.process.kill('SIGTERM');
      const exit = await child.exited;
      expect(exit.signal).toBe('SIGTERM'); // the signal's default action ran after the graceful close
      expect([...child.started].filter((id) => !child.done.has(id))).toEqual([]);
      const stats = await mq.stats(queue);
      expect(stats.active).toBe(0);
      expect(stats.completed + stats.waiting).toBe(30);
    } finally {
      await mq.close();
    }
  });
});

/**
 * Publishes `total` jobs, lets a worker finish some, stops the broker, (optionally publishes more
 * while it is down), starts it again, and waits until every job has completed.
 */
async function survivesRestart(
  mq: QueueManager,
  options: {
    total: number;
    handlerMs: number;
    stop: () => Promise<void>;
    start: () => Promise<void>;
    publishWhileDown?: number;
  },
): Promise<void> {
  const queue = uniqueName('restart');
  const publish = (count: number, from: number) =>
    mq.publishBatch(
      queue,
      Array.from({ length: count }, (_, i) => ({ data: from + i })),
    );
  const ids = (await publish(options.total, 0)).map((r) => r.id);
  const done = new Set<string>();
  mq.process(
    queue,
    async (job) => {
      await new Promise((r) => setTimeout(r, options.handlerMs));
      done.add(job.id);
    },
    { concurrency: 5, lockMs: 1_000 },
  );
  await waitUntil(() => done.size >= options.total / 5, { timeoutMs: 20_000 });
  await options.stop();
  expect(done.size).toBeLessThan(ids.length); // really mid-run
  // Published while the broker is down: accepted once it is back.
  const late = options.publishWhileDown ? publish(options.publishWhileDown, options.total) : undefined;
  await new Promise((r) => setTimeout(r, 300));
  await options.start();
  if (late) ids.push(...(await late).map((r) => r.id));
  await waitUntil(() => ids.every((id) => done.has(id)), {
    timeoutMs: 60_000,
    message: 'every job completed after the restart',
  });
}

describe.skipIf(!redis.available)('broker restarted mid-run (own redis-server)', () => {
  let dispose: (() => Promise<void>) | undefined;
  afterAll(() => dispose?.());

  it('redis: the worker reconnects and every job completes', async () => {
    const durable = await startDurableRedis();
    dispose = durable.dispose;
    const own = durable.server;
    const mq = createQueueManager({
      provider: redisProvider({ connection: own.url, pollMs: 200 }),
      closeOnSignals: false,
    });
    try {
      await survivesRestart(mq, {
        total: 200,
        handlerMs: 5,
        stop: () => own.kill(),
        start: () => own.restart(),
      });
    } finally {
      await mq.close({ timeoutMs: 2_000 });
    }
  });
});

const rabbitServerInstalled = existsSync('/usr/sbin/rabbitmq-server');

describe.skipIf(!rabbit.available || !rabbitServerInstalled)(
  'broker restarted mid-run (own RabbitMQ node)',
  () => {
    let node: OwnRabbit | undefined;
    afterAll(() => node?.dispose());

    it('rabbitmq: consumers re-subscribe, publishes wait for the reconnection, every job completes', async () => {
      const own = new OwnRabbit(await freePort(), await freePort());
      node = own;
      await own.start();
      const mq = createQueueManager({
        provider: rabbitmqProvider({ connection: own.url, operationTimeoutMs: 60_000 }),
        closeOnSignals: false,
      });
      try {
        await survivesRestart(mq, {
          total: 300,
          // 9 s of work: a graceful node stop on a loaded machine took longer than the 2.4 s that
          // 50 ms per job left, and the run was over before the broker went down.
          handlerMs: 150,
          stop: () => own.stop(),
          start: () => own.start(),
          publishWhileDown: 50,
        });
      } finally {
        await mq.close({ timeoutMs: 2_000 });
      }
      // Booting a RabbitMQ node twice takes 15 s alone and more on a loaded machine.
    }, 90_000);
  },
);
