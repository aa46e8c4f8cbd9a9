import { invariant } from '@noa/core';
import type { AlgorithmOutcome } from '../algorithms/algorithm.js';
import { algorithms } from '../algorithms/index.js';
import type { RateLimitStore, StoreOperation, StorePolicy, StoreResult } from '../types.js';

export interface MemoryStoreOptions {
  /** Clock in ms; inject one for deterministic tests. Default `Date.now`. */
  now?: () => number;
  /** How often expired keys are swept (an unref'ed timer, started on first use). Default 60 000. */
  sweepIntervalMs?: number;
}

interface Entry {
  state: unknown;
  /** When `state` equals a fresh key's and can be forgotten. */
  expiresAt: number;
  blockedUntil: number;
  violations: number;
  violationsUntil: number;
}

/** A rate-limit store in this process: the same algorithms and semantics as the Redis store. */
export class MemoryStore implements RateLimitStore {
  readonly name = 'memory';
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #sweepIntervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  readonly #out: AlgorithmOutcome = { allowed: false, remaining: 0, resetMs: 0, retryAfterMs: 0 };

  constructor({ now = Date.now, sweepIntervalMs = 60_000 }: MemoryStoreOptions = {}) {
    invariant(typeof now === 'function', 'memoryStore: now must be a function returning milliseconds');
    invariant(
      Number.isFinite(sweepIntervalMs) && sweepIntervalMs > 0,
      `memoryStore: sweepIntervalMs must be a number > 0, got ${sweepIntervalMs}`,
    );
    this.#now = now;
    this.#sweepIntervalMs = sweepIntervalMs;
  }

  /** Keys currently held (live or not yet swept). */
  get size(): number {
    return this.#entries.size;
  }

  apply(key: string, policy: StorePolicy, operation: StoreOperation, amount: number): Promise<StoreResult> {
    return Promise.resolve(this.applySync(key, policy, operation, amount));
  }

  /**
   * The same as `apply`, synchronously: the memory store never waits. Writes the answer into
   * `into` when given (the limiter reuses one object, so a decision allocates only what it returns).
   */
  applySync(
    key: string,
    policy: StorePolicy,
    operation: StoreOperation,
    amount: number,
    into: StoreResult = { allowed: false, remaining: 0, resetMs: 0, retryAfterMs: 0, blocked: false },
  ): StoreResult {
    const now = this.#now();
    let entry = this.#entries.get(key);
    if (operation === 'reset') {
      this.#entries.delete(key);
      return fill(into, true, policy.burst, 0, 0, false);
    }
    if (operation === 'block') {
      entry ??= this.#create(key);
      entry.blockedUntil = now + amount;
      entry.violations = 0;
      return blocked(into, amount);
    }
    if (
      entry !== undefined &&
      entry.blockedUntil > now &&
      (operation === 'consume' || operation === 'peek')
    ) {
      return blocked(into, Math.ceil(entry.blockedUntil - now));
    }
    const out = this.#out;
    const live = entry !== undefined && entry.expiresAt > now ? entry.state : undefined;
    const next = algorithms[policy.algorithm].apply(live, now, policy, operation, amount, out);
    if (next !== undefined) {
      entry ??= this.#create(key);
      entry.state = next;
      entry.expiresAt = now + out.resetMs;
    }
    if (operation === 'consume' && !out.allowed && policy.blockAfterViolations > 0) {
      entry ??= this.#create(key);
      if (entry.violationsUntil <= now) {
        entry.violations = 0;
        entry.violationsUntil = now + policy.windowMs;
      }
      entry.violations++;
      if (entry.violations >= policy.blockAfterViolations) {
        entry.violations = 0;
        entry.blockedUntil = now + policy.blockDurationMs;
        return blocked(into, policy.blockDurationMs);
      }
    }
    return fill(into, out.allowed, out.remaining, out.resetMs, out.retryAfterMs, false);
  }

  #create(key: string): Entry {
    const entry: Entry = {
      state: undefined,
      expiresAt: 0,
      blockedUntil: 0,
      violations: 0,
      violationsUntil: 0,
    };
    this.#entries.set(key, entry);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.sweep(), this.#sweepIntervalMs);
      this.#timer.unref();
    }
    return entry;
  }

  /** Forgets keys whose state, block and violations have all expired. Runs on a timer; callable. */
  sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt <= now && entry.blockedUntil <= now && entry.violationsUntil <= now) {
        this.#entries.delete(key);
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#entries.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function fill(
  into: StoreResult,
  allowed: boolean,
  remaining: number,
  resetMs: number,
  retryAfterMs: number,
  blocked: boolean,
): StoreResult {
  into.allowed = allowed;
  into.remaining = remaining;
  into.resetMs = resetMs;
  into.retryAfterMs = retryAfterMs;
  into.blocked = blocked;
  return into;
}

function blocked(into: StoreResult, ms: number): StoreResult {
  return fill(into, false, 0, ms, ms, true);
}

/** The in-process store: a full implementation, the default when no store is given. */
export function memoryStore(options?: MemoryStoreOptions): MemoryStore {
  return new MemoryStore(options);
}
