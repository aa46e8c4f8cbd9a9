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
  settled: boolean;
  fail: () => void;
  next: PendingCall | undefined;
}

/**
 * Bounds every call to a remote dependency: a deadline per call, and a circuit breaker (from core)
 * that fails fast while the dependency is down, so a dead Redis costs callers nothing but a branch.
 * A timer per call is a visible cost on a path that does tens of thousands of calls per second, so
 * calls with the default timeout wait in one FIFO (their deadlines arrive in the order they
 * started) and a single timer is armed for the oldest one: each call fails at its own deadline,
 * not later. Settled calls are dropped from the FIFO when the timer reaches them.
 */
export class Guard {
  readonly breaker: CircuitBreaker;
  readonly timeoutMs: number;
  readonly #name: string;
  #head: PendingCall | undefined;
  #tail: PendingCall | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor({ name, timeoutMs, breaker }: GuardOptions) {
    invariant(
      Number.isFinite(timeoutMs) && timeoutMs > 0,
      `${name}: timeoutMs must be a number of milliseconds > 0, got ${String(timeoutMs)}`,
    );
    this.#name = name;
    this.timeoutMs = timeoutMs;
    this.breaker = createCircuitBreaker({ failureThreshold: 3, halfOpenAfterMs: 1_000, name, ...breaker });
  }

  /**
   * Runs `call` through the breaker, failing it with NOA_CACHE_TIER_TIMEOUT after `timeoutMs`, or
   * at `deadline` (epoch ms) when that comes first: one cache call that needs several Redis calls
   * passes the same deadline to each, so the call as a whole is bounded.
   */
  run<T>(what: string, call: () => Promise<T>, timeoutMs = this.timeoutMs, deadline?: number): Promise<T> {
    const now = Date.now();
    let due = now + timeoutMs;
    if (deadline !== undefined && deadline < due) {
      if (deadline <= now) return Promise.reject(this.#timeout(what, timeoutMs));
      due = deadline;
    }
    return this.breaker.execute(
      () =>
        new Promise<T>((resolve, reject) => {
          const pending: PendingCall = {
            deadline: due,
            settled: false,
            fail: () => reject(this.#timeout(what, due - now)),
            next: undefined,
          };
          // Default-timeout calls keep the FIFO ordered by deadline; others get their own timer.
          let own: NodeJS.Timeout | undefined;
          if (due === now + this.timeoutMs) this.#enqueue(pending);
          else own = setTimeout(() => this.#expire(pending), due - now);
          call().then(
            (value) => {
              pending.settled = true;
              clearTimeout(own);
              resolve(value);
            },
            (error) => {
              pending.settled = true;
              clearTimeout(own);
              reject(error);
            },
          );
        }),
    );
  }

  #timeout(what: string, ms: number): NoaError {
    return new NoaError(
      'NOA_CACHE_TIER_TIMEOUT',
      `${this.#name}: ${what} got no answer within ${ms} ms; is the server up? (timeoutMs)`,
    );
  }

  #enqueue(pending: PendingCall): void {
    if (this.#tail === undefined) this.#head = pending;
    else this.#tail.next = pending;
    this.#tail = pending;
    if (this.#timer === undefined) this.#arm(pending.deadline);
  }

  #arm(deadline: number): void {
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, deadline - Date.now()));
  }

  #expire(pending: PendingCall): void {
    if (pending.settled) return;
    pending.settled = true;
    pending.fail();
  }

  /** Fails every call whose deadline has passed, drops settled ones, re-arms for the next. */
  #sweep(): void {
    this.#timer = undefined;
    const now = Date.now();
    let head = this.#head;
    while (head !== undefined && (head.settled || head.deadline <= now)) {
      this.#expire(head);
      head = head.next;
    }
    this.#head = head;
    if (head === undefined) this.#tail = undefined;
    else this.#arm(head.deadline);
  }
}
