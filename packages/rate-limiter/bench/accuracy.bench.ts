/**
 * Accuracy: the most requests each algorithm admits in any rolling window of `windowMs`, under
 * traffic shapes chosen to find its worst case. Runs on the memory store with a simulated clock
 * (the Redis script has the same arithmetic, and the contract suite checks they agree).
 */
import { type BenchTable, renderText } from '@noa/testkit';
import { type Algorithm, createRateLimiter, memoryStore } from '../src/index.js';

const LIMIT = 100;
const WINDOW_MS = 1_000;
const RUN_MS = 10_000;

/** Request times (ms) a client attempts. */
const patterns: Record<string, () => number[]> = {
  // One attempt per millisecond: always knocking.
  greedy: () => Array.from({ length: RUN_MS }, (_, t) => t),
  // Quiet, then everything just before and just after each window boundary.
  'boundary bursts': () => {
    const times = [0];
    for (let w = 1; w * WINDOW_MS < RUN_MS; w++) {
      for (let k = 0; k < LIMIT; k++) times.push(w * WINDOW_MS - 1, w * WINDOW_MS + 1);
    }
    return times.sort((a, b) => a - b);
  },
  // Random arrivals at 3× the limit.
  'random 3× over': () => {
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    return Array.from({ length: (3 * LIMIT * RUN_MS) / WINDOW_MS }, () => Math.floor(random() * RUN_MS)).sort(
      (a, b) => a - b,
    );
  },
};

async function admittedTimes(algorithm: Algorithm, times: number[], burst?: number): Promise<number[]> {
  let now = 0;
  const limiter = createRateLimiter({
    algorithm,
    limit: LIMIT,
    windowMs: WINDOW_MS,
    burst,
    store: memoryStore({ now: () => now }),
  });
  const admitted: number[] = [];
  for (const t of times) {
    now = t;
    if ((await limiter.consume('k')).allowed) admitted.push(t);
  }
  return admitted;
}

function maxInRollingWindow(times: number[]): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= WINDOW_MS) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

export async function accuracyBench(): Promise<BenchTable[]> {
  const rows: (string | number)[][] = [];
  const cases: [string, Algorithm, number | undefined][] = [
    ['sliding-window', 'sliding-window', undefined],
    ['fixed-window', 'fixed-window', undefined],
    ['token-bucket (burst = limit)', 'token-bucket', undefined],
    ['leaky-bucket (burst = limit)', 'leaky-bucket', undefined],
    ['gcra (burst = limit)', 'gcra', undefined],
    ['gcra (burst = limit / 10)', 'gcra', LIMIT / 10],
  ];
  for (const [label, algorithm, burst] of cases) {
    let worst = 0;
    let worstPattern = '';
    let total = 0;
    for (const [name, make] of Object.entries(patterns)) {
      const admitted = await admittedTimes(algorithm, make(), burst);
      const most = maxInRollingWindow(admitted);
      if (most > worst) {
        worst = most;
        worstPattern = name;
      }
      if (name === 'greedy') total = admitted.length;
    }
    rows.push([label, worst, `${(worst / LIMIT).toFixed(2)}×`, worstPattern, total]);
  }
  const table: BenchTable = {
    id: 'rate-limiter-accuracy',
    title: `Accuracy: most requests admitted in any rolling ${WINDOW_MS} ms window (limit ${LIMIT} per ${WINDOW_MS} ms)`,
    columns: [
      'algorithm',
      'max in a rolling window',
      'vs limit',
      'worst traffic shape',
      `admitted in ${RUN_MS / 1000} s (greedy)`,
    ],
    rows,
    notes: [
      `traffic shapes: greedy (1 attempt/ms), boundary bursts (${LIMIT} just before and after every window edge), random at 3× the limit; ${RUN_MS / 1000} s simulated`,
      `long-run rate is the limit for all (${(LIMIT * RUN_MS) / WINDOW_MS} in ${RUN_MS / 1000} s, plus the initial burst for the buckets)`,
    ],
  };
  console.log(renderText(table));
  return [table];
}
