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

/** One call in flight: a node of the guard's deadline list (or with a timer of its own). */
class PendingCall {
  prev: PendingCall | undefined;
  next: PendingCall | undefined;
  timer: NodeJS.Timeout | undefined;
  settled = false;

  constructor(
    readonly guard: Guard,
    readonly what: string,
    readonly deadline: number,
    readonly waitedMs: number,
    readonly listed: boolean,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void,
  ) {}

  succeed(value: unknown): void {
    if (this.#finish()) this.resolve(value);
  }

  fail(error: unknown): void {
    if (this.#finish()) this.reject(error);
  }

  /** The deadline passed: fail with a timeout (the list or timer is already done with it). */
  expire(): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(this.guard.timeoutError(this.what, this.waitedMs));
  }

  #finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.listed) this.guard.unlink(this);
    else clearTimeout(this.timer);
    return true;
  }
}

function expireOwn(pending: PendingCall): void {
  pending.expire();
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
      if (deadline <= now) return Promise.reject(this.timeoutError(what, timeoutMs));
      due = deadline;
    }
    return this.breaker.execute(
      () =>
        new Promise<T>((resolve, reject) => {
          // Default-timeout calls keep the list ordered by deadline; others get their own timer.
          const listed = due === now + this.timeoutMs;
          const settle = resolve as (value: unknown) => void;
          const pending = new PendingCall(this, what, due, due - now, listed, settle, reject);
          if (listed) this.#enqueue(pending);
          else pending.timer = setTimeout(expireOwn, due - now, pending);
          call().then(
            (value) => pending.succeed(value),
            (error) => pending.fail(error),
          );
        }),
    );
  }

  timeoutError(what: string, ms: number): NoaError {
    return new NoaError(
      'NOA_CACHE_TIER_TIMEOUT',
      `${this.#name}: ${what} got no answer within ${ms} ms; is the server up? (timeoutMs)`,
    );
  }

  unlink(pending: PendingCall): void {
    const { prev, next } = pending;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    pending.prev = pending.next = undefined;
  }

  #enqueue(pending: PendingCall): void {
    pending.prev = this.#tail;
    if (this.#tail === undefined) this.#head = pending;
    else this.#tail.next = pending;
    this.#tail = pending;
    if (this.#timer === undefined) this.#arm(pending.deadline);
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
      this.unlink(head);
      head.expire();
      head = this.#head;
    }
    if (head !== undefined) this.#arm(head.deadline);
  }
}
