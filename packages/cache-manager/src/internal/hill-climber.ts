// Caffeine's step: 6.25 % of capacity, decaying by 2 % per sample, restarted at full size when the
// hit rate moves by 5 points or more (the workload changed).
const STEP_PERCENT = 0.0625;
const STEP_DECAY = 0.98;
const RESTART_THRESHOLD = 0.05;
// A hit-rate change smaller than this many standard errors (of the difference of two samples) is
// taken for noise.
const SIGNIFICANCE = 1.5;

/**
 * Sizes the W-TinyLFU window by hill climbing on the hit rate, as Caffeine does: after each sample
 * it compares the sample's hit rate with the previous one's, keeps stepping the same way while it
 * rises and reverses when it falls; the first step shrinks the window.
 *
 * One addition: a change within sampling noise moves nothing (the step still decays). Caffeine's
 * climber steps on every sample, so on a steady workload noise walks the window at random, and
 * since it cannot go below one entry the walk drifts upwards (it reached 15–40 % of the cache on
 * the stationary Zipf and scan traces, costing up to 1.5 points); recency-heavy workloads, where a
 * bigger window pays, still move it by clear margins.
 */
export class HillClimber {
  readonly #capacity: number;
  #hits = 0;
  #misses = 0;
  #previousHitRate = -1;
  #step: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
    this.#step = -STEP_PERCENT * capacity;
  }

  recordHit(): void {
    this.#hits++;
  }

  recordMiss(): void {
    this.#misses++;
  }

  /** Current step in entries (negative: shrinking), for tests. */
  get step(): number {
    return this.#step;
  }

  /**
   * Ends a sample (the policy calls this when its frequency sketch ages, so every sample spans one
   * aging period: fixed-length samples straddle the resets at drifting phases, which showed as
   * ±4-point alternation). Returns the entries to add to the window (negative: to take from it).
   */
  adjust(): number {
    const requests = this.#hits + this.#misses;
    if (requests === 0) return 0;
    const hitRate = this.#hits / requests;
    this.#hits = this.#misses = 0;
    const previous = this.#previousHitRate;
    this.#previousHitRate = hitRate;
    if (previous < 0) return 0; // the first sample is only a baseline
    const change = hitRate - previous;
    const noise = Math.sqrt((2 * hitRate * (1 - hitRate)) / requests);
    if (Math.abs(change) < SIGNIFICANCE * noise) {
      this.#step *= STEP_DECAY;
      return 0;
    }
    const amount = change >= 0 ? this.#step : -this.#step;
    this.#step =
      Math.abs(change) >= RESTART_THRESHOLD
        ? STEP_PERCENT * this.#capacity * (amount >= 0 ? 1 : -1)
        : STEP_DECAY * amount;
    return Math.trunc(amount);
  }
}
