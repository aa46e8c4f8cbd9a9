import { invariant } from '@noa/core';
import type { Clock } from '../clock.js';

export interface BucketSpec {
  capacity: number;
  refillPerSecond: number;
}

interface Bucket extends BucketSpec {
  tokens: number;
  updatedAt: number;
}

/**
 * Several token buckets taken together: a request that costs tokens in two buckets (Akamai: one
 * request token and N URL tokens) waits until both have enough, then takes both at once, so tokens
 * are never held while waiting for another bucket. Callers are served in arrival order.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #clock: Clock;
  #tail: Promise<void> = Promise.resolve();
  #pausedUntil = 0;

  constructor(specs: Record<string, BucketSpec>, clock: Clock) {
    this.#clock = clock;
    for (const [name, spec] of Object.entries(specs)) {
      invariant(
        spec.capacity > 0 && spec.refillPerSecond > 0,
        `rate limit "${name}": capacity and refillPerSecond must be > 0`,
      );
      this.#buckets.set(name, { ...spec, tokens: spec.capacity, updatedAt: clock.now() });
    }
  }

  /** Waits until every bucket named in `cost` has the tokens, then takes them. */
  acquire(cost: Record<string, number>, signal?: AbortSignal): Promise<void> {
    for (const [name, n] of Object.entries(cost)) {
      const bucket = this.#buckets.get(name);
      invariant(
        !bucket || n <= bucket.capacity,
        `a request costing ${n} "${name}" tokens can never fit a bucket of ${bucket?.capacity}; batch smaller`,
      );
    }
    const turn = this.#tail.then(() => this.#take(cost, signal));
    this.#tail = turn.catch(() => {});
    return turn;
  }

  /** Stops everyone until `ms` from now (a 429 said so); buckets are emptied as the server saw them. */
  pause(ms: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.now() + ms);
  }

  async #take(cost: Record<string, number>, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.#clock.now();
      let waitMs = Math.max(0, this.#pausedUntil - now);
      for (const [name, n] of Object.entries(cost)) {
        const bucket = this.#buckets.get(name);
        if (!bucket) continue;
        bucket.tokens = Math.min(
          bucket.capacity,
          bucket.tokens + ((now - bucket.updatedAt) / 1000) * bucket.refillPerSecond,
        );
        bucket.updatedAt = now;
        if (bucket.tokens < n)
          waitMs = Math.max(waitMs, ((n - bucket.tokens) / bucket.refillPerSecond) * 1000);
      }
      if (waitMs <= 0) {
        for (const [name, n] of Object.entries(cost)) {
          const bucket = this.#buckets.get(name);
          if (bucket) bucket.tokens -= n;
        }
        return;
      }
      await this.#clock.sleep(Math.ceil(waitMs), signal);
    }
  }
}
