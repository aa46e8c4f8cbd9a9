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
  prev: PendingCall | undefined;
  next: PendingCall | undefined;
}

/**
 * Bounds every call to a remote dependency: a deadline per call, and a circuit breaker (from core)
 * that fails fast while the dependency is down, so a dead Redis costs callers nothing but a branch.
 * A timer per call is a visible cost on a path that does tens of thousands of calls per second, so
 * calls with the default timeout wait in one list (their deadlines arrive in the order they
 * started) and a single timer is armed for the oldest one: each call fails at its own deadline,
 * not later. A call that settles leaves the list at once, so nothing outlives it there.
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
          let settled = false;
          const pending: PendingCall = {
            deadline: due,
            fail: () => {
              settled = true;
              reject(this.#timeout(what, due - now));
            },
            prev: undefined,
            next: undefined,
          };
          // Default-timeout calls keep the list ordered by deadline; others get their own timer.
          const listed = due === now + this.timeoutMs;
          let own: NodeJS.Timeout | undefined;
          if (listed) this.#enqueue(pending);
          else own = setTimeout(pending.fail, due - now);
          const done = () => {
            if (listed) this.#unlink(pending);
            else clearTimeout(own);
          };
          call().then(
            (value) => {
              if (settled) return;
              done();
              resolve(value);
            },
            (error) => {
              if (settled) return;
              done();
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
    pending.prev = this.#tail;
    if (this.#tail === undefined) this.#head = pending;
    else this.#tail.next = pending;
    this.#tail = pending;
    if (this.#timer === undefined) this.#arm(pending.deadline);
  }

  #unlink(pending: PendingCall): void {
    const { prev, next } = pending;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    pending.prev = pending.next = undefined;
  }

  #arm(deadline: number): void {
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, deadline - Date.now()));
  }

  /** Fails every call whose deadline has passed and re-arms for the next one, if any. */
  #sweep(): void {
    this.#timer = undefined;
    const now = Date.now();
    let head = this.#head;
    while (head !== undefined && head.deadline <= now) {
      this.#unlink(head);
      head.fail();
      head = this.#head;
    }
    if (head !== undefined) this.#arm(head.deadline);
  }
}
