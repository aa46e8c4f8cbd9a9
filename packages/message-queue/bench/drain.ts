import type { BenchTable } from '@noa/testkit';
import type { QueueManager } from '../src/index.js';

/** A consumer under test: start it on a pre-filled queue, resolve when `count` jobs were handled. */
export type Drain = (count: number) => Promise<void>;

/**
 * Consume throughput: each round pre-fills a queue per task and times how long its consumer takes
 * to drain it; tasks are interleaved and the median round is reported.
 */
export async function drainTable(
  id: string,
  title: string,
  tasks: Record<string, { fill: (count: number) => Promise<void>; drain: Drain }>,
  { count, rounds, notes = [] }: { count: number; rounds: number; notes?: string[] },
): Promise<BenchTable> {
  const names = Object.keys(tasks);
  const rates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      const task = tasks[name]!;
      await task.fill(count);
      const started = performance.now();
      await task.drain(count);
      rates[name]!.push(count / ((performance.now() - started) / 1000));
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  const base = median(rates[names[0]!]!);
  const table: BenchTable = {
    id,
    title,
    columns: ['task', 'jobs/s', `vs ${names[0]}`],
    rows: names.map((name) => {
      const rate = median(rates[name]!);
      return [name, Math.round(rate), `${(rate / base).toFixed(2)}×`];
    }),
    notes: [`median of ${rounds} interleaved rounds, ${count} jobs pre-filled per round`, ...notes],
  };
  return table;
}

/** Counts handled jobs and resolves once `count` were seen. */
export function counter(): { hit: () => void; until: (count: number) => Promise<void> } {
  let seen = 0;
  let target = Number.POSITIVE_INFINITY;
  let done: (() => void) | undefined;
  return {
    hit: () => {
      seen++;
      if (seen >= target) done?.();
    },
    until: (count) => {
      seen = 0;
      target = count;
      return new Promise<void>((resolve) => {
        done = resolve;
      });
    },
  };
}

/** Our side of a drain table: fill with publishBatch in chunks of 1000, drain with a fresh worker. */
export function managerDrain(
  mq: QueueManager,
  queue: string,
  data: unknown,
  concurrency: number,
): { fill: (count: number) => Promise<void>; drain: Drain } {
  return {
    fill: async (n) => {
      for (let i = 0; i < n; i += 1000)
        await mq.publishBatch(
          queue,
          Array.from({ length: Math.min(1000, n - i) }, () => ({ data })),
        );
    },
    drain: async (n) => {
      const seen = counter();
      const done = seen.until(n);
      const worker = mq.process(queue, () => seen.hit(), { concurrency });
      await done;
      await worker.close();
    },
  };
}
