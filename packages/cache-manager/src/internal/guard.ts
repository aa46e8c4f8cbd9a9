import {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  createCircuitBreaker,
  invariant,
  isNoaError,
  NoaError,
  withTimeout,
} from '@noa/core';

export interface GuardOptions {
  name: string;
  timeoutMs: number;
  breaker?: CircuitBreakerOptions;
}

/**
 * Bounds every call to a remote dependency: a timeout per call, and a circuit breaker (from core)
 * that fails fast while the dependency is down, so a dead Redis costs callers nothing but a branch.
 */
export class Guard {
  readonly breaker: CircuitBreaker;
  readonly #name: string;
  readonly #timeoutMs: number;

  constructor({ name, timeoutMs, breaker }: GuardOptions) {
    invariant(
      Number.isFinite(timeoutMs) && timeoutMs > 0,
      `${name}: timeoutMs must be a number of milliseconds > 0, got ${String(timeoutMs)}`,
    );
    this.#name = name;
    this.#timeoutMs = timeoutMs;
    this.breaker = createCircuitBreaker({ failureThreshold: 3, halfOpenAfterMs: 1_000, name, ...breaker });
  }

  /** Runs `call` through the breaker, failing it after `timeoutMs` (default: the guard's). */
  run<T>(what: string, call: () => Promise<T>, timeoutMs = this.#timeoutMs): Promise<T> {
    return this.breaker.execute(async () => {
      try {
        return await withTimeout(call(), timeoutMs);
      } catch (error) {
        if (isNoaError(error, 'NOA_TIMEOUT')) {
          throw new NoaError(
            'NOA_CACHE_TIER_TIMEOUT',
            `${this.#name}: ${what} got no answer within ${timeoutMs} ms; is the server up? (timeoutMs)`,
            { cause: error },
          );
        }
        throw error;
      }
    });
  }
}
