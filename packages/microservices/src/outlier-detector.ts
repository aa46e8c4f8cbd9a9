import { invariant } from '@noa/core';

export interface OutlierDetectionOptions {
  /** Consecutive failures (5xx, connection errors, timeouts) that eject an instance. Default 5. */
  consecutiveFailures?: number;
  /** First ejection lasts this long; each further one of the same instance lasts one more multiple. Default 30 000. */
  baseEjectionMs?: number;
  /** Longest ejection. Default 300 000. */
  maxEjectionMs?: number;
  /** Never eject more than this share of the instances, so capacity remains. Default 50. */
  maxEjectionPercent?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

interface State {
  consecutive: number;
  ejections: number;
  ejectedUntil: number;
}

/**
 * Envoy-style outlier ejection: an instance that fails `consecutiveFailures` times in a row is taken
 * out of this client's rotation for a growing time, but never so many that fewer than
 * (100 - maxEjectionPercent)% of the instances remain. Unlike the circuit breaker it keeps capacity.
 */
export class OutlierDetector {
  readonly #states = new Map<string, State>();
  readonly #threshold: number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #maxPercent: number;
  readonly #now: () => number;

  constructor(options: OutlierDetectionOptions = {}) {
    const {
      consecutiveFailures = 5,
      baseEjectionMs = 30_000,
      maxEjectionMs = 300_000,
      maxEjectionPercent = 50,
      now = Date.now,
    } = options;
    invariant(
      Number.isInteger(consecutiveFailures) && consecutiveFailures >= 1,
      'outlierDetection.consecutiveFailures must be an integer >= 1',
    );
    invariant(
      Number.isFinite(baseEjectionMs) && baseEjectionMs > 0,
      'outlierDetection.baseEjectionMs must be > 0',
    );
    invariant(maxEjectionMs >= baseEjectionMs, 'outlierDetection.maxEjectionMs must be >= baseEjectionMs');
    invariant(
      maxEjectionPercent >= 0 && maxEjectionPercent <= 100,
      'outlierDetection.maxEjectionPercent must be 0-100',
    );
    this.#threshold = consecutiveFailures;
    this.#baseMs = baseEjectionMs;
    this.#maxMs = maxEjectionMs;
    this.#maxPercent = maxEjectionPercent;
    this.#now = now;
  }

  isEjected(id: string): boolean {
    const state = this.#states.get(id);
    return state !== undefined && state.ejectedUntil > this.#now();
  }

  success(id: string): void {
    const state = this.#states.get(id);
    if (state) state.consecutive = 0;
  }

  /** Records a failure; returns the ejection time when this failure ejected the instance. */
  failure(id: string, instanceCount: number): number | undefined {
    let state = this.#states.get(id);
    if (!state) this.#states.set(id, (state = { consecutive: 0, ejections: 0, ejectedUntil: 0 }));
    state.consecutive++;
    if (state.consecutive < this.#threshold || this.isEjected(id)) return undefined;
    let ejected = 0;
    for (const [other] of this.#states) if (this.isEjected(other)) ejected++;
    if (((ejected + 1) / instanceCount) * 100 > this.#maxPercent) return undefined;
    state.ejections++;
    state.consecutive = 0;
    const ms = Math.min(this.#maxMs, this.#baseMs * state.ejections);
    state.ejectedUntil = this.#now() + ms;
    return ms;
  }

  retain(ids: ReadonlySet<string>): void {
    for (const id of this.#states.keys()) if (!ids.has(id)) this.#states.delete(id);
  }
}
