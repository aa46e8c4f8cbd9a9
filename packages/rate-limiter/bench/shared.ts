/** What the throughput benchmarks share. */
export interface BenchOptions {
  timeMs: number;
  rounds: number;
}

/**
 * A limit nobody reaches, so every library runs its admit path (rate-limiter-flexible rejects with
 * an exception when limited, which would measure exceptions instead).
 */
export const NEVER_REACHED = 1_000_000_000;

/** Cycles through `count` keys (`user:0` ...), so a run touches every one of them. */
export function keyRotation(count: number): () => string {
  const keys = Array.from({ length: count }, (_, i) => `user:${i}`);
  let i = 0;
  return () => keys[(i = (i + 1) % count)]!;
}
