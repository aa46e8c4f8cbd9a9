/** What one timed run of a task produced. */
export interface Measurement {
  /** Operations per second over the whole run. */
  opsPerSec: number;
  /** Median and 99th percentile latency of one operation, in nanoseconds. */
  p50Ns: number;
  p99Ns: number;
  /** Operations executed. */
  ops: number;
}

export type BenchFn = () => unknown;

export interface MeasureOptions {
  /** How long to run, after warm-up. */
  timeMs: number;
  /** Operations kept in flight at once for asynchronous tasks (1 = sequential). */
  concurrency: number;
}

const now = () => process.hrtime.bigint();

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/** The median of some measurements (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

function summarize(samplesNs: number[], ops: number, elapsedNs: number): Measurement {
  samplesNs.sort((a, b) => a - b);
  return {
    opsPerSec: ops / (elapsedNs / 1e9),
    p50Ns: percentile(samplesNs, 50),
    p99Ns: percentile(samplesNs, 99),
    ops,
  };
}

/**
 * Synchronous tasks run in batches sized so that one batch takes at least ~20 µs, so the clock's own
 * cost does not swamp nanosecond operations; a latency sample is a batch's time divided by its size.
 */
function measureSync(fn: BenchFn, timeMs: number): Measurement {
  let batch = 1;
  for (;;) {
    const start = now();
    for (let i = 0; i < batch; i++) fn();
    if (Number(now() - start) >= 20_000 || batch >= 1 << 20) break;
    batch *= 2;
  }
  const samples: number[] = [];
  let ops = 0;
  const started = now();
  const deadline = started + BigInt(timeMs) * 1_000_000n;
  let end = started;
  while (end < deadline) {
    const start = now();
    for (let i = 0; i < batch; i++) fn();
    end = now();
    samples.push(Number(end - start) / batch);
    ops += batch;
  }
  return summarize(samples, ops, Number(end - started));
}

/** Asynchronous tasks are timed one operation at a time, with `concurrency` operations in flight. */
async function measureAsync(fn: BenchFn, timeMs: number, concurrency: number): Promise<Measurement> {
  const samples: number[] = [];
  let ops = 0;
  const started = now();
  const deadline = started + BigInt(timeMs) * 1_000_000n;
  const lane = async () => {
    while (now() < deadline) {
      const start = now();
      await fn();
      samples.push(Number(now() - start));
      ops += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  return summarize(samples, ops, Number(now() - started));
}

/** Warms a task up, then measures it for `timeMs`. */
export async function measure(fn: BenchFn, { timeMs, concurrency }: MeasureOptions): Promise<Measurement> {
  const first = fn();
  const async = isThenable(first) || concurrency > 1;
  if (isThenable(first)) await first;
  const warmMs = Math.min(200, Math.max(20, timeMs / 5));
  if (async) {
    await measureAsync(fn, warmMs, concurrency);
    return measureAsync(fn, timeMs, concurrency);
  }
  measureSync(fn, warmMs);
  return measureSync(fn, timeMs);
}
