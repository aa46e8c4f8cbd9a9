import { type BenchTable, formatDuration, percentile, renderText } from '@noa/testkit';
import type { QueueManager } from '../src/index.js';

export interface LatencySubject {
  name: string;
  /** Starts consuming; calls `seen(sentAt)` at handler start with the publish-side timestamp. */
  start(seen: (sentAt: number) => void): Promise<() => Promise<void>>;
  /** Publishes one job carrying `sentAt`. */
  publish(sentAt: number): Promise<unknown>;
}

const now = () => performance.timeOrigin + performance.now();

/** A subject for one of our managers. */
export function managerSubject(name: string, mq: QueueManager, queue: string): LatencySubject {
  return {
    name,
    start: async (seen) => {
      await mq.stats(queue); // connected, queue declared: measure steady state, not start-up
      const worker = mq.process<{ sentAt: number }>(queue, (job) => seen(job.data.sentAt), {
        concurrency: 50,
      });
      return () => worker.close();
    },
    publish: (sentAt) => mq.publish(queue, { sentAt }),
  };
}

/**
 * End-to-end latency from publish to handler start, at a steady rate: every 5 ms the publisher sends
 * however many jobs keep it on `rate` jobs/s (each its own publish, not batched).
 */
export async function latencyTable(
  subjects: LatencySubject[],
  { rate, durationMs }: { rate: number; durationMs: number },
): Promise<BenchTable> {
  const rows: (string | number)[][] = [];
  for (const subject of subjects) {
    const samples: number[] = [];
    const stop = await subject.start((sentAt) => samples.push((now() - sentAt) * 1e6));
    const started = performance.now();
    let sent = 0;
    const pending: Promise<unknown>[] = [];
    while (performance.now() - started < durationMs) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      for (; sent < due; sent++) pending.push(subject.publish(now()));
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(pending);
    const deadline = Date.now() + 15_000;
    while (samples.length < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await stop();
    samples.sort((a, b) => a - b);
    rows.push([
      subject.name,
      samples.length,
      Math.round(samples.length / (durationMs / 1000)),
      formatDuration(percentile(samples, 50)),
      formatDuration(percentile(samples, 99)),
      formatDuration(samples.at(-1) ?? 0),
    ]);
  }
  const table: BenchTable = {
    id: 'mq-latency',
    title: `End-to-end latency, publish to handler start, at a steady ${rate.toLocaleString('en-US')} jobs/s`,
    columns: ['provider', 'jobs', 'jobs/s', 'p50', 'p99', 'max'],
    rows,
    notes: [`${durationMs / 1000} s per provider, one publish per job, worker concurrency 50, same process`],
  };
  console.log(renderText(table));
  return table;
}
