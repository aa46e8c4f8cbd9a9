import type { CircuitBreaker } from '@noa/core';
import type { RateLimitStore, StoreOperation, StorePolicy, StoreResult } from '../types.js';
import { type CallWatcher, DeadlineQueue } from './deadline-queue.js';

const nothing = () => undefined;
const ignore = () => {};

/**
 * A store behind the limiter's timeout and circuit breaker. While the circuit is closed (the
 * common case) a call goes straight to the store, bounded by the shared deadline queue, instead of
 * through the breaker's async wrapper; its outcome is then told to the breaker only when it changes
 * something: every failure (counted, and it may open the circuit) and the first success after
 * one (which resets the count), so the circuit opens and closes exactly as if every call had gone
 * through it. When the circuit is not closed, calls go through the breaker as usual.
 */
export class GuardedStore implements CallWatcher {
  readonly #store: RateLimitStore;
  readonly #breaker: CircuitBreaker;
  readonly #deadlines: DeadlineQueue;
  /** A failure was reported and no success since: the breaker's failure count is not 0. */
  #failing = false;

  constructor(store: RateLimitStore, breaker: CircuitBreaker, timeoutMs: number) {
    this.#store = store;
    this.#breaker = breaker;
    this.#deadlines = new DeadlineQueue(timeoutMs, this);
    breaker.on('close', () => {
      this.#failing = false;
    });
  }

  apply(key: string, policy: StorePolicy, op: StoreOperation, amount: number): Promise<StoreResult> {
    if (this.#breaker.state === 'closed')
      return this.#deadlines.bound(this.#store.apply(key, policy, op, amount), true);
    return this.#breaker.execute(() => this.#deadlines.bound(this.#store.apply(key, policy, op, amount)));
  }

  succeeded(): void {
    if (!this.#failing || this.#breaker.state !== 'closed') return;
    this.#failing = false;
    void this.#breaker.execute(nothing);
  }

  failed(error: unknown): void {
    // A call that began while the circuit was closed and ends after it opened changes nothing.
    if (this.#breaker.state !== 'closed') return;
    this.#failing = true;
    this.#breaker.execute(() => Promise.reject(error)).catch(ignore);
  }
}
