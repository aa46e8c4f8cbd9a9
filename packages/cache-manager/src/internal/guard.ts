import {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  createCircuitBreaker,
  invariant,
  NoaError,
} from '@noa/core';

export interface GuardOptions {
  name: string;
  timeoutMs: number;
  breaker?: CircuitBreakerOptions;
}

interface PendingCall {
  deadline: number;
  fail: () => void;
}

/**
 * Bounds every call to a remote dependency: a deadline per call, and a circuit breaker (from core)
 * that fails fast while the dependency is down, so a dead Redis costs callers nothing but a branch.
 * Deadlines are checked by one timer for all calls in flight (a timer per call is a visible cost
 * on a path that does tens of thousands of calls per second); it runs only while calls are pending.
 */
export class Guard {
  readonly breaker: CircuitBreaker;
  readonly #name: string;
  readonly #timeoutMs: number;
  readonly #pending = new Set<PendingCall>();
  #timer: NodeJS.Timeout | undefined;

  constructor({ name, timeoutMs, breaker }: GuardOptions) {
    invariant(
      Number.isFinite(timeoutMs) && timeoutMs > 0,
      `${name}: timeoutMs must be a number of milliseconds > 0, got ${String(timeoutMs)}`,
    );
    this.#name = name;
    this.#timeoutMs = timeoutMs;
    this.breaker = createCircuitBreaker({ failureThreshold: 3, halfOpenAfterMs: 1_000, name, ...breaker });
  }

  /** Runs `call` through the breaker, failing it with NOA_CACHE_TIER_TIMEOUT after `timeoutMs`. */
  run<T>(what: string, call: () => Promise<T>, timeoutMs = this.#timeoutMs): Promise<T> {
    return this.breaker.execute(
      () =>
        new Promise<T>((resolve, reject) => {
          const pending: PendingCall = {
            deadline: Date.now() + timeoutMs,
            fail: () =>
              reject(
                new NoaError(
                  'NOA_CACHE_TIER_TIMEOUT',
                  `${this.#name}: ${what} got no answer within ${timeoutMs} ms; is the server up? (timeoutMs)`,
                ),
              ),
          };
          this.#pending.add(pending);
          this.#watch();
          call().then(
            (value) => {
              this.#pending.delete(pending);
              resolve(value);
            },
            (error) => {
              this.#pending.delete(pending);
              reject(error);
            },
          );
        }),
    );
  }

  #watch(): void {
    if (this.#timer !== undefined) return;
    // A quarter of the timeout: a call fails at most 25 % after its deadline.
    this.#timer = setInterval(() => this.#expire(), Math.max(1, Math.min(this.#timeoutMs / 4, 50)));
  }

  #expire(): void {
    const now = Date.now();
    for (const pending of this.#pending) {
      if (pending.deadline <= now) {
        this.#pending.delete(pending);
        pending.fail();
      }
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
