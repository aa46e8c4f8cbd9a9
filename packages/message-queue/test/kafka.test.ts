import { isNoaError } from '@noa/core';
import { waitUntil } from '@noa/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createQueueManager, type QueueManager } from '../src/index.js';
import { kafkaProvider } from '../src/providers/kafka.js';
import { FakeKafka } from './fake-kafka.js';

describe('kafka provider mapping (fake kafkajs client)', () => {
  const managers: QueueManager[] = [];
  const setup = () => {
    const broker = new FakeKafka();
    const mq = createQueueManager({
      provider: kafkaProvider({ kafka: broker.asKafka() }),
      closeOnSignals: false,
      defaults: { backoff: { type: 'fixed', delayMs: 30, jitter: false } },
    });
    managers.push(mq);
    return { broker, mq };
  };
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((mq) => mq.close()));
  });

  it('publishes to the topic named after the queue, keyed by groupId, with acks=all and the job id header', async () => {
    const { broker, mq } = setup();
    const { id } = await mq.publish('orders', { n: 1 }, { groupId: 'customer-7' });
    expect(broker.sends[0]!.topic).toBe('orders');
    expect(broker.sends[0]!.acks).toBe(-1);
    expect(broker.sends[0]!.messages[0]!.key).toBe('customer-7');
    expect(broker.sends[0]!.messages[0]!.headers['noa-job-id']).toBe(id);
    expect(JSON.parse(broker.sends[0]!.messages[0]!.value).data).toEqual({ n: 1 });
  });

  it('keeps per-key order with several partitions consumed concurrently', async () => {
    const { mq } = setup();
    const keys = ['a', 'b', 'c', 'd'];
    await mq.publishBatch(
      'ordered',
      Array.from({ length: 40 }, (_, i) => ({ data: { key: keys[i % 4], i }, groupId: keys[i % 4] })),
    );
    const seen = new Map<string, number[]>();
    mq.process<{ key: string; i: number }>(
      'ordered',
      async (job) => {
        await new Promise((r) => setTimeout(r, 1));
        seen.set(job.data.key, [...(seen.get(job.data.key) ?? []), job.data.i]);
      },
      { concurrency: 3 },
    );
    await waitUntil(() => [...seen.values()].flat().length === 40, { timeoutMs: 10_000 });
    for (const list of seen.values()) expect(list).toEqual([...list].sort((x, y) => x - y));
  });

  it('sends a failed attempt to the retry topic with its due time, runs it after the backoff, and commits after processing', async () => {
    const { broker, mq } = setup();
    await mq.publish('retrying', 'x', { attempts: 3 });
    const attempts: number[] = [];
    mq.process('retrying', (job) => {
      attempts.push(job.attempt);
      if (job.attempt === 1) throw new Error('flaky');
    });
    await waitUntil(() => attempts.length === 2, { timeoutMs: 10_000 });
    expect(attempts).toEqual([1, 2]);
    const retried = broker.all('retrying.retry');
    expect(retried).toHaveLength(1);
    expect(Number(retried[0]!.headers['noa-due-at'])).toBeGreaterThan(0);
    expect(JSON.parse(retried[0]!.value).history[0].error).toBe('flaky');
    await waitUntil(() => {
      const offsets = broker.committed.get('noa-mq.retrying')!;
      return [...offsets.values()].reduce((a, b) => a + b, 0) === 2;
    });
  });

  it('does not commit the offset while the handler runs', async () => {
    const { broker, mq } = setup();
    await mq.publish('slow', 'x');
    let release!: () => void;
    let started = false;
    mq.process('slow', async () => {
      started = true;
      await new Promise<void>((r) => {
        release = r;
      });
    });
    await waitUntil(() => started);
    const committed = () =>
      [...(broker.committed.get('noa-mq.slow')?.values() ?? [])].reduce((a, b) => a + b, 0);
    expect(committed()).toBe(0);
    release();
    await waitUntil(() => committed() === 1);
  });

  it('keeps heartbeating while a long handler runs, without progress() calls, so the group keeps the partition', async () => {
    const { broker, mq } = setup();
    await mq.publish('long', 'x');
    let done = false;
    mq.process('long', async () => {
      await new Promise((r) => setTimeout(r, 2_500));
      done = true;
    });
    await waitUntil(() => done, { timeoutMs: 10_000 });
    const during = broker.heartbeats.get('noa-mq.long') ?? 0;
    expect(during).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 1_200));
    expect(broker.heartbeats.get('noa-mq.long') ?? 0).toBe(during); // stops with the handler
  });

  it('sends last failures and malformed messages to the DLQ topic with the error history', async () => {
    const { broker, mq } = setup();
    await mq.provider.publish('failing', [
      { id: 'raw', body: '{oops', delayMs: 0, priority: 0, dedupe: false },
    ]);
    await mq.publish('failing', 'x', { attempts: 2 });
    const worker = mq.process('failing', () => {
      throw new RangeError('nope');
    });
    const dead: string[] = [];
    worker.on('dead', (id) => dead.push(id));
    await waitUntil(() => dead.length === 2, { timeoutMs: 10_000 });
    const dlq = broker.all('failing.dlq').map((r) => JSON.parse(r.value));
    const failed = dlq.find((r) => r.data === 'x');
    expect(failed.history.map((h: { attempt: number }) => h.attempt)).toEqual([1, 2]);
    expect(failed.history[1].stack).toContain('RangeError: nope');
    expect(dlq.find((r) => r.data === '{oops')).toBeDefined();
  });

  it('refuses what Kafka cannot do with NOA_MQ_UNSUPPORTED', async () => {
    const { mq } = setup();
    const unsupported = (e: unknown) => isNoaError(e, 'NOA_MQ_UNSUPPORTED');
    await expect(mq.publish('q', 1, { delayMs: 10 })).rejects.toSatisfy(unsupported);
    await expect(mq.publish('q', 1, { priority: 3 })).rejects.toSatisfy(unsupported);
    await expect(mq.publish('q', 1, { jobId: 'a' })).rejects.toSatisfy(unsupported);
    await expect(mq.deadLetters('q').list()).rejects.toSatisfy(unsupported);
    await expect(mq.schedule('nightly', { cron: '0 2 * * *' })).rejects.toSatisfy(unsupported);
  });

  it('reports consumer lag as waiting', async () => {
    const { mq } = setup();
    await mq.publishBatch('lagging', [{ data: 1 }, { data: 2 }, { data: 3 }]);
    expect((await mq.stats('lagging')).waiting).toBe(3);
  });
});
