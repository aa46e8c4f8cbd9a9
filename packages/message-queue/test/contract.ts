/**
 * The contract every provider passes, the memory provider included: publish/process, batches,
 * concurrency, retries with backoff, dead letters (list/retry/purge, malformed bodies), dedupe,
 * delays, priorities, progress, graceful close, and cron ticks fired once across two schedulers.
 */
import { isNoaError } from '@noa/core';
import { uniqueName, waitUntil } from '@noa/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createQueueManager,
  type DeadLetter,
  type Job,
  type QueueManager,
  type QueueProvider,
} from '../src/index.js';

export interface ContractOptions {
  /** A provider connected to the shared backend (called once per manager). */
  create: () => QueueProvider;
  /** Queue names the backend accepts. */
  queueName?: (label: string) => string;
  /** Skip the two-scheduler cron test (providers without schedules). */
  schedules?: boolean;
  /**
   * The broker counts attempts and retries re-show the same message (SQS FIFO, to keep group
   * order): the body cannot carry earlier attempts' errors, and a hand-back counts as a receive.
   */
  brokerCountsAttempts?: boolean;
  /** Deletes what the suite created on a shared server (queues, keys). */
  cleanup?: (queues: string[]) => Promise<void>;
  /** Extra ms for broker round trips in waits. */
  timeoutMs?: number;
}

const fast = { type: 'fixed' as const, delayMs: 10, jitter: false };

export function queueContract(name: string, options: ContractOptions): void {
  const { create, timeoutMs = 15_000 } = options;
  const created: string[] = [];
  const queueName = (label: string) => {
    const name = (options.queueName ?? uniqueName)(label);
    created.push(name);
    return name;
  };
  const managers: QueueManager[] = [];
  const manager = () => {
    const mq = createQueueManager({ provider: create(), closeOnSignals: false, defaults: { backoff: fast } });
    managers.push(mq);
    return mq;
  };
  const wait = <T>(fn: () => T | Promise<T>, message: string) =>
    waitUntil(fn, { timeoutMs, intervalMs: 25, message });

  afterEach(async () => {
    await Promise.all(managers.splice(0).map((mq) => mq.close({ timeoutMs: 2_000 })));
  });
  afterAll(async () => {
    await options.cleanup?.(created);
  });

  describe(`queue contract: ${name}`, () => {
    it('publishes and processes a job with its data, id and attempt', async () => {
      const mq = manager();
      const queue = queueName('basic');
      const seen: Job<{ to: string }>[] = [];
      const { id } = await mq.publish(queue, { to: 'ada@example.com' });
      mq.process<{ to: string }>(queue, (job) => {
        seen.push(job);
      });
      await wait(() => seen.length === 1, 'job processed');
      expect(seen[0]!.id).toBe(id);
      expect(seen[0]!.data).toEqual({ to: 'ada@example.com' });
      expect(seen[0]!.attempt).toBe(1);
      expect(seen[0]!.queue).toBe(queue);
      await wait(async () => (await mq.stats(queue)).completed >= 1, 'completed counted');
    });

    it('processes every job of a batch exactly once with concurrency', async () => {
      const mq = manager();
      const queue = queueName('batch');
      const count = 200;
      const results = await mq.publishBatch(
        queue,
        // Groups matter only to FIFO queues, where each group runs in order, one job at a time.
        Array.from({ length: count }, (_, i) => ({ data: { i }, groupId: `g${i % 16}` })),
      );
      expect(new Set(results.map((r) => r.id)).size).toBe(count);
      const seen = new Map<number, number>();
      let active = 0;
      let maxActive = 0;
      mq.process<{ i: number }>(
        queue,
        async (job) => {
          active++;
          maxActive = Math.max(maxActive, active);
          await new Promise((r) => setTimeout(r, 2));
          seen.set(job.data.i, (seen.get(job.data.i) ?? 0) + 1);
          active--;
        },
        { concurrency: 8 },
      );
      await wait(() => seen.size === count, 'all batch jobs processed');
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
      expect(maxActive).toBeLessThanOrEqual(8);
      expect(maxActive).toBeGreaterThan(1);
    });

    it('retries a failing job with backoff, then succeeds', async () => {
      const mq = manager();
      const queue = queueName('retry');
      const attempts: number[] = [];
      let historyAtSuccess = -1;
      await mq.publish(queue, 'x', {
        attempts: 4,
        backoff: { type: 'exponential', delayMs: 20, jitter: true },
      });
      const worker = mq.process(queue, (job) => {
        attempts.push(job.attempt);
        if (job.attempt < 3) throw new Error(`boom ${job.attempt}`);
        historyAtSuccess = job.history.length;
      });
      const retrying: number[] = [];
      worker.on('retrying', (_job, _err, delayMs) => retrying.push(delayMs));
      await wait(() => historyAtSuccess >= 0, 'third attempt succeeded');
      expect(attempts).toEqual([1, 2, 3]);
      expect(historyAtSuccess).toBe(options.brokerCountsAttempts ? 0 : 2);
      expect(retrying).toHaveLength(2);
      expect(retrying.every((d) => d >= 0 && d <= 40)).toBe(true);
    });

    it('dead-letters a job after its last attempt with error, stack and history; retry and purge', async () => {
      const mq = manager();
      const queue = queueName('dead');
      const { id } = await mq.publish(queue, { n: 1 }, { attempts: 2 });
      let succeed = false;
      let completions = 0;
      const worker = mq.process(queue, () => {
        if (!succeed) throw new TypeError('cannot send');
        completions++;
      });
      const dead: string[] = [];
      worker.on('dead', (jobId) => dead.push(jobId));
      await wait(() => dead.length === 1, 'job dead-lettered');
      const dlq = mq.deadLetters<{ n: number }>(queue);
      if (!mq.provider.capabilities(queue).deadLetterAdmin) {
        await expect(dlq.list()).rejects.toSatisfy((e) => isNoaError(e, 'NOA_MQ_UNSUPPORTED'));
        return;
      }
      const list = (await wait(async () => {
        const l = await dlq.list();
        return l.length === 1 ? l : undefined;
      }, 'dead letter listed')) as Awaited<ReturnType<typeof dlq.list>>;
      expect(list[0]!.id).toBe(id);
      expect(list[0]!.data).toEqual({ n: 1 });
      expect(list[0]!.error).toBe('cannot send');
      expect(list[0]!.stack).toContain('TypeError: cannot send');
      expect(list[0]!.attempts).toBe(2);
      expect(list[0]!.history.map((h) => h.attempt)).toEqual(options.brokerCountsAttempts ? [2] : [1, 2]);
      succeed = true;
      expect(await dlq.retry(id)).toBe(true);
      await wait(() => completions === 1, 'retried dead job completed');
      expect(await dlq.retry('no-such-job')).toBe(false);

      succeed = false;
      await mq.publish(queue, { n: 2 }, { attempts: 1 });
      await wait(async () => (await dlq.list()).length === 1, 'second job dead');
      await dlq.purge();
      await wait(async () => (await dlq.list()).length === 0, 'purged');
    });

    it('moves a malformed message to the dead-letter queue instead of crashing the worker', async () => {
      const mq = manager();
      const queue = queueName('malformed');
      await mq.provider.publish(queue, [
        { id: 'raw-1', body: 'this is not a job', delayMs: 0, priority: 0, dedupe: false },
      ]);
      await mq.publish(queue, 'good');
      const done: unknown[] = [];
      const dead: string[] = [];
      mq.process(queue, (job) => {
        done.push(job.data);
      }).on('dead', (id) => dead.push(id));
      await wait(
        () => done.length === 1 && dead.length === 1,
        'good job processed, malformed one dead-lettered',
      );
      if (!mq.provider.capabilities(queue).deadLetterAdmin) return;
      const list = (await wait(async () => {
        const l = await mq.deadLetters(queue).list();
        return l.length === 1 ? l : undefined;
      }, 'malformed message dead-lettered')) as DeadLetter[];
      expect(list[0]!.data).toBe('this is not a job');
      expect(list[0]!.error).toMatch(/not JSON|not a @noa\/message-queue job/);
    });

    it('deduplicates publishes by jobId (or says it cannot)', async () => {
      const mq = manager();
      const queue = queueName('dedupe');
      if (!mq.provider.capabilities(queue).dedupe) {
        await expect(mq.publish(queue, 1, { jobId: 'a' })).rejects.toSatisfy((e) =>
          isNoaError(e, 'NOA_MQ_UNSUPPORTED'),
        );
        return;
      }
      const a = await mq.publish(queue, 1, { jobId: 'order-42' });
      const b = await mq.publish(queue, 2, { jobId: 'order-42' });
      expect(a.id).toBe('order-42');
      expect(b.id).toBe('order-42');
      const seen: unknown[] = [];
      mq.process(queue, (job) => {
        seen.push(job.data);
      });
      await wait(() => seen.length === 1, 'deduplicated job processed');
      await mq.publish(queue, 3, { jobId: 'order-42' }); // completed recently: still deduplicated
      await mq.publish(queue, 4);
      await wait(() => seen.length === 2, 'next job processed');
      expect(seen).toEqual([1, 4]);
    });

    it('runs a delayed job no earlier than its delay', async () => {
      const mq = manager();
      const queue = queueName('delay');
      if (!mq.provider.capabilities(queue).delay) {
        await expect(mq.publish(queue, 1, { delayMs: 100 })).rejects.toSatisfy((e) =>
          isNoaError(e, 'NOA_MQ_UNSUPPORTED'),
        );
        return;
      }
      const ran: number[] = [];
      const published = Date.now();
      await mq.publish(queue, 'later', { delayMs: 1_200 });
      await mq.publish(queue, 'now');
      const order: unknown[] = [];
      mq.process(queue, (job) => {
        order.push(job.data);
        ran.push(Date.now());
      });
      await wait(() => ran.length === 2, 'both jobs ran');
      expect(order).toEqual(['now', 'later']);
      expect(ran[1]! - published).toBeGreaterThanOrEqual(1_150);
    });

    it('runs higher priorities first (or says it cannot)', async () => {
      const mq = manager();
      const queue = queueName('priority');
      if (!mq.provider.capabilities(queue).priority) {
        await expect(mq.publish(queue, 1, { priority: 5 })).rejects.toSatisfy((e) =>
          isNoaError(e, 'NOA_MQ_UNSUPPORTED'),
        );
        return;
      }
      await mq.publishBatch(queue, [
        { data: 'low-1' },
        { data: 'high', priority: 9 },
        { data: 'low-2' },
        { data: 'mid', priority: 5 },
      ]);
      const order: unknown[] = [];
      mq.process(queue, (job) => {
        order.push(job.data);
      });
      await wait(() => order.length === 4, 'all ran');
      expect(order).toEqual(['high', 'mid', 'low-1', 'low-2']);
    });

    it('reports progress and closes gracefully: the active job finishes, nothing stays active', async () => {
      const mq = manager();
      const queue = queueName('graceful');
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let finished = false;
      await mq.publish(queue, 'slow');
      const worker = mq.process(queue, async (job) => {
        await job.progress(50);
        await gate;
        finished = true;
      });
      const progress: unknown[] = [];
      worker.on('progress', (_job, value) => progress.push(value));
      await wait(() => progress.length === 1, 'progress reported');
      expect(progress).toEqual([50]);
      const closing = worker.close();
      await new Promise((r) => setTimeout(r, 50));
      expect(finished).toBe(false);
      release();
      await closing;
      expect(finished).toBe(true);
      expect(worker.running).toBe(false);
      await wait(async () => (await mq.stats(queue)).active === 0, 'no active job');
    });

    it('extends the lock of a job that runs past lockMs: no other worker gets it meanwhile', async () => {
      const mq = manager();
      const queue = queueName('longjob');
      await mq.publish(queue, 'long');
      const runs: string[] = [];
      let finished = false;
      const handler = (worker: string) => async () => {
        runs.push(worker);
        await new Promise((r) => setTimeout(r, 3_500)); // 3.5 × lockMs, without calling progress()
        finished = true;
      };
      mq.process(queue, handler('a'), { lockMs: 1_000 });
      mq.process(queue, handler('b'), { lockMs: 1_000 });
      await wait(() => finished, 'long job finished');
      await new Promise((r) => setTimeout(r, 1_500)); // an expired lock would show up by now
      expect(runs).toHaveLength(1);
      await wait(async () => (await mq.stats(queue)).completed >= 1, 'completed counted');
    });

    it('hands a stuck job back when close() times out, and another worker runs it', async () => {
      const mq = manager();
      const queue = queueName('handback');
      await mq.publish(queue, 'stuck');
      let firstStarted = false;
      const first = mq.process(queue, async () => {
        firstStarted = true;
        await new Promise(() => {}); // never settles
      });
      await wait(() => firstStarted, 'first worker took the job');
      await first.close({ timeoutMs: 100 });
      const seen: number[] = [];
      mq.process(queue, (job) => {
        seen.push(job.attempt);
      });
      await wait(() => seen.length === 1, 'second worker ran the handed-back job');
      expect(seen).toEqual([options.brokerCountsAttempts ? 2 : 1]);
    });

    it('validates input with clear errors', async () => {
      const mq = manager();
      await expect(mq.publish('bad queue name!', 1)).rejects.toSatisfy((e) =>
        isNoaError(e, 'NOA_MQ_INVALID_QUEUE'),
      );
      await expect(mq.publish(queueName('v'), 1, { attempts: 0 })).rejects.toSatisfy((e) =>
        isNoaError(e, 'NOA_MQ_INVALID_OPTION'),
      );
      await expect(mq.publish(queueName('v'), 1n)).rejects.toSatisfy((e) =>
        isNoaError(e, 'NOA_MQ_INVALID_DATA'),
      );
      expect(() => mq.process(queueName('v'), () => {}, { concurrency: 0 })).toThrow(/concurrency/);
      await expect(mq.schedule('s', { cron: 'not a cron' })).rejects.toSatisfy(
        (e) => isNoaError(e, 'NOA_MQ_INVALID_CRON') || isNoaError(e, 'NOA_MQ_UNSUPPORTED'),
      );
    });

    it.skipIf(options.schedules === false)('fires each cron tick once across two schedulers', async () => {
      const a = manager();
      const b = manager();
      const queue = queueName('cron');
      const name = `${queue}-tick`;
      await a.schedule(name, { cron: '* * * * * *', queue, data: { report: 'nightly' } });
      await b.schedule(name, { cron: '* * * * * *', queue, data: { report: 'nightly' } });
      const ids: string[] = [];
      a.process(queue, (job) => {
        ids.push(job.id);
      });
      await wait(() => ids.length >= 3, 'three ticks processed');
      await new Promise((r) => setTimeout(r, 300));
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.every((id) => id.startsWith(`${name}@`))).toBe(true);
    });
  });
}
