import { type BenchFn, type Measurement, measure, median } from './measure.js';
import { type BenchTable, formatDuration, renderText } from './table.js';

export interface CompareOptions {
  /** Stable id of the table. */
  id: string;
  /** The task the ratio column is relative to (default: the first). */
  baseline?: string;
  /** Measured time per task per round. */
  timeMs?: number;
  /** Rounds; tasks are interleaved round by round and the median round is reported. */
  rounds?: number;
  /** In-flight operations for asynchronous tasks. */
  concurrency?: number;
  notes?: string[];
  /** Print the table when done (default true). */
  print?: boolean;
}

export interface CompareResult {
  table: BenchTable;
  /** The median measurement of each task. */
  byTask: Record<string, Measurement>;
}

/**
 * Runs our implementation and its peers in one process on the same work, `rounds` times each in
 * interleaved order (the machines are shared and noisy), and reports the median of the rounds:
 * ops/s, p50/p99 latency and the ratio to the baseline task.
 */
export async function compare(
  title: string,
  tasks: Record<string, BenchFn>,
  { id, baseline, timeMs = 500, rounds = 5, concurrency = 1, notes, print = true }: CompareOptions,
): Promise<CompareResult> {
  const names = Object.keys(tasks);
  if (names.length === 0) throw new Error('compare: no tasks');
  const base = baseline ?? names[0]!;
  if (!(base in tasks)) throw new Error(`compare: baseline "${base}" is not a task`);
  const runs: Record<string, Measurement[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) runs[name]!.push(await measure(tasks[name]!, { timeMs, concurrency }));
  }
  const byTask: Record<string, Measurement> = {};
  for (const name of names) {
    const list = runs[name]!;
    byTask[name] = {
      opsPerSec: median(list.map((m) => m.opsPerSec)),
      p50Ns: median(list.map((m) => m.p50Ns)),
      p99Ns: median(list.map((m) => m.p99Ns)),
      ops: median(list.map((m) => m.ops)),
    };
  }
  const baseOps = byTask[base]!.opsPerSec;
  const table: BenchTable = {
    id,
    title,
    columns: ['task', 'ops/s', 'p50', 'p99', `vs ${base}`],
    rows: names.map((name) => {
      const m = byTask[name]!;
      return [
        name,
        Math.round(m.opsPerSec),
        formatDuration(m.p50Ns),
        formatDuration(m.p99Ns),
        `${(m.opsPerSec / baseOps).toFixed(2)}×`,
      ];
    }),
    notes: [
      `median of ${rounds} interleaved rounds of ${timeMs} ms${concurrency > 1 ? `, ${concurrency} in flight` : ''}`,
      ...(notes ?? []),
    ],
  };
  if (print) console.log(renderText(table));
  return { table, byTask };
}
