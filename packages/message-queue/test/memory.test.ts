import { createMemoryMetrics, isNoaError } from '@noa/core';
import { waitUntil } from '@noa/testkit';
import { describe, expect, it } from 'vitest';
import { createQueueManager, memoryProvider } from '../src/index.js';
import { queueContract } from './contract.js';

// One provider for the whole file: two managers over it are two schedulers sharing one backend.
const shared = memoryProvider();
queueContract('memory', { create: () => shared, timeoutMs: 5_000 });

describe('metrics and events (memory)', () => {
  it('counts outcomes and handler durations through the Metrics interface', async () => {
    const metrics = createMemoryMetrics();
    const mq = createQueueManager({
      provider: memoryProvider(),
      metrics,
      closeOnSignals: false,
      defaults: { backoff: { type: 'fixed', delayMs: 1, jitter: false } },
    });
    await mq.publish('m', 'ok');
    await mq.publish('m', 'bad', { attempts: 2 });
    const worker = mq.process('m', (job) => {
      if (job.data === 'bad') throw new Error('bad');
    });
    const completed: number[] = [];
    worker.on('completed', (_job, ms) => completed.push(ms));
    await waitUntil(async () => (await mq.stats('m')).dead === 1);
    expect(metrics.value('mq_jobs_total', { queue: 'm', outcome: 'completed' })).toBe(1);
    expect(metrics.value('mq_jobs_total', { queue: 'm', outcome: 'retried' })).toBe(1);
    expect(metrics.value('mq_jobs_total', { queue: 'm', outcome: 'dead' })).toBe(1);
    expect(metrics.observations('mq_job_duration_seconds', { queue: 'm' })).toHaveLength(1);
    expect(completed).toHaveLength(1);
    await mq.close();
    await expect(mq.publish('m', 1)).rejects.toSatisfy((e) => isNoaError(e, 'NOA_MQ_CLOSED'));
  });
});
