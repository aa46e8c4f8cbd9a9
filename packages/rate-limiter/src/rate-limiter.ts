import {
  type CircuitBreaker,
  createCircuitBreaker,
  invariant,
  type Labels,
  type Logger,
  type Metrics,
  NoaError,
  noopLogger,
  noopMetrics,
  TypedEventEmitter,
} from '@noa/core';
import { BlockCache } from './block-cache.js';
import { GuardedStore } from './internal/guarded-store.js';
import { type LimitOptions, resolvePolicy } from './policy.js';
import { MemoryStore, memoryStore } from './stores/memory.js';
import type { RateLimitDecision, RateLimitStore, StoreOperation, StorePolicy, StoreResult } from './types.js';

/** What to do when the store fails or does not answer within `storeTimeoutMs`. */
export type OnStoreError = 'fail-open' | 'fail-closed' | { fallback: RateLimitStore };

export interface RateLimiterOptions extends LimitOptions {
  /** Where state lives. Default: a new `memoryStore()` (closed with the limiter). */
  store?: RateLimitStore;
  /** Namespace of this limiter's keys in the store (`<name>:<key>`); give limiters sharing a store different names. */
  name?: string;
  /**
   * `fail-open` (default: admit, `reason: 'store-unavailable'`), `fail-closed` (deny with that
   * reason, never `limited`), or `{ fallback: memoryStore() }` (decide with another store).
   */
  onStoreError?: OnStoreError;
  /** Longest wait for the store per call; a hung store never hangs a request. Default 250. */
  storeTimeoutMs?: number;
  /**
   * After `failureThreshold` consecutive store failures, stop asking the store for
   * `halfOpenAfterMs` (requests go straight to `onStoreError`), then try it again: the limiter
   * returns to the store as soon as it answers. Defaults 3 and 1 000.
   */
  circuitBreaker?: { failureThreshold?: number; halfOpenAfterMs?: number };
  /** Blocked keys remembered in process (answered with no store round trip). Default 10 000; 0 = off. */
  blockCacheSize?: number;
  logger?: Logger;
  metrics?: Metrics;
}

export interface ConsumeOptions {
  /** Units to spend: an integer from 0 to the limit (burst). Default 1. */
  cost?: number;
}

export type RateLimiterEvents = {
  /** A request was denied because the key is over its limit. */
  limited: [key: string, decision: RateLimitDecision];
  /** This process learned that a key is blocked (by `block()` or `blockAfterViolations`). */
  blocked: [key: string, durationMs: number];
  /** A store call failed or timed out; `onStoreError` decided instead. */
  'store-error': [error: unknown, key: string];
  /** The circuit to the store opened (it is considered down) or closed again (it answers). */
  'store-down': [error: unknown];
  'store-up': [];
};

export interface RateLimiter extends TypedEventEmitter<RateLimiterEvents> {
  readonly policy: Readonly<StorePolicy>;
  readonly store: RateLimitStore;
  /** Spends `cost` (default 1) if the key has it. */
  consume(key: string, options?: ConsumeOptions): Promise<RateLimitDecision>;
  /** What `consume` would answer for a cost of 1, without spending anything. */
  peek(key: string): Promise<RateLimitDecision>;
  /** Forgets the key: its usage, violations and block. */
  reset(key: string): Promise<void>;
  /** Blocks the key for `durationMs` in the store (all processes) and in this process's block cache. */
  block(key: string, durationMs: number): Promise<void>;
  /** Spends `points` unconditionally (for example after a failed login). */
  penalty(key: string, points: number): Promise<RateLimitDecision>;
  /** Gives `points` back (for example when a request turned out to be cheap), up to the limit. */
  reward(key: string, points: number): Promise<RateLimitDecision>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const MAX_KEY_LENGTH = 1024;

class Limiter extends TypedEventEmitter<RateLimiterEvents> implements RateLimiter {
  readonly policy: Readonly<StorePolicy>;
  readonly store: RateLimitStore;
  readonly #ownsStore: boolean;
  readonly #name: string;
  readonly #onStoreError: OnStoreError;
  /** The store behind the timeout and the circuit breaker. */
  readonly #guarded: GuardedStore;
  readonly #breaker: CircuitBreaker;
  readonly #blocks: BlockCache;
  readonly #sync: MemoryStore | undefined;
  readonly #logger: Logger;
  /** Undefined with the default noopMetrics: the hot path then skips counting. */
  readonly #decisions: ReturnType<Metrics['counter']> | undefined;
  readonly #labels = new Map<string, Labels>();
  readonly #halfOpenAfterMs: number;
  /** Filled by the memory store on the synchronous path, read at once: one object for all decisions. */
  readonly #scratch: StoreResult = {
    allowed: false,
    remaining: 0,
    resetMs: 0,
    retryAfterMs: 0,
    blocked: false,
  };

  constructor(options: RateLimiterOptions) {
    super();
    this.policy = Object.freeze(resolvePolicy(options));
    const {
      store,
      name = '',
      onStoreError = 'fail-open',
      storeTimeoutMs = 250,
      circuitBreaker = {},
      blockCacheSize = 10_000,
      logger = noopLogger,
      metrics = noopMetrics,
    } = options;
    invariant(
      store === undefined || (typeof store === 'object' && typeof store?.apply === 'function'),
      'createRateLimiter: store must be a RateLimitStore such as memoryStore() or redisStore({ client })',
    );
    invariant(typeof name === 'string', 'createRateLimiter: name must be a string');
    invariant(
      onStoreError === 'fail-open' ||
        onStoreError === 'fail-closed' ||
        (typeof onStoreError === 'object' && typeof onStoreError?.fallback?.apply === 'function'),
      "createRateLimiter: onStoreError must be 'fail-open', 'fail-closed' or { fallback: memoryStore() }",
    );
    invariant(
      Number.isFinite(storeTimeoutMs) && storeTimeoutMs > 0,
      `createRateLimiter: storeTimeoutMs must be a number > 0, got ${storeTimeoutMs}`,
    );
    invariant(
      Number.isInteger(blockCacheSize) && blockCacheSize >= 0,
      `createRateLimiter: blockCacheSize must be an integer >= 0, got ${blockCacheSize}`,
    );
    this.store = store ?? memoryStore();
    this.#ownsStore = store === undefined;
    this.#name = name ? `${name}:` : '';
    this.#onStoreError = onStoreError;
    this.#blocks = new BlockCache(blockCacheSize);
    // The memory store cannot fail or hang: skip the timer and breaker on its hot path.
    this.#sync = this.store instanceof MemoryStore ? this.store : undefined;
    this.#logger = logger;
    this.#halfOpenAfterMs = circuitBreaker.halfOpenAfterMs ?? 1_000;
    this.#breaker = createCircuitBreaker({
      failureThreshold: circuitBreaker.failureThreshold ?? 3,
      halfOpenAfterMs: this.#halfOpenAfterMs,
      name: `rate limiter store ${this.store.name}`,
    });
    this.#breaker.on('open', ({ error }) => {
      this.#logger.warn(
        { err: error, store: this.store.name },
        'rate limiter: store is down, using onStoreError',
      );
      this.emit('store-down', error);
    });
    this.#breaker.on('close', () => {
      this.#logger.info({ store: this.store.name }, 'rate limiter: store answers again');
      this.emit('store-up');
    });
    this.#guarded = new GuardedStore(this.store, this.#breaker, storeTimeoutMs);
    this.#decisions =
      metrics === noopMetrics
        ? undefined
        : metrics.counter({
            name: 'rate_limit_decisions_total',
            help: 'Rate limit decisions by result and decider',
            labelNames: ['limiter', 'reason', 'decided_by'],
          });
  }

  consume(key: string, options?: ConsumeOptions): Promise<RateLimitDecision> {
    const cost = options?.cost ?? 1;
    // Checked before building any message: this is the hot path.
    if (!(Number.isInteger(cost) && cost >= 0 && cost <= this.policy.burst)) {
      return Promise.reject(
        new NoaError(
          'NOA_RATE_LIMIT_INVALID_COST',
          `consume: cost must be an integer from 0 to ${this.policy.burst} (the limit), got ${cost}`,
        ),
      );
    }
    return this.#decide(key, 'consume', cost);
  }

  peek(key: string): Promise<RateLimitDecision> {
    return this.#decide(key, 'peek', 1);
  }

  async penalty(key: string, points: number): Promise<RateLimitDecision> {
    checkPoints('penalty', points);
    return this.#decide(key, 'penalty', points);
  }

  async reward(key: string, points: number): Promise<RateLimitDecision> {
    checkPoints('reward', points);
    return this.#decide(key, 'reward', points);
  }

  async reset(key: string): Promise<void> {
    const full = this.#key(key);
    this.#blocks.delete(full);
    await this.#admin(full, 'reset', 0);
  }

  async block(key: string, durationMs: number): Promise<void> {
    invariant(
      Number.isFinite(durationMs) && durationMs > 0,
      `block: durationMs must be a number > 0, got ${durationMs}`,
    );
    const full = this.#key(key);
    const ms = Math.ceil(durationMs);
    if (this.#blocks.add(full, Date.now() + ms)) this.emit('blocked', key, ms);
    await this.#admin(full, 'block', ms);
  }

  #key(key: string): string {
    if (typeof key === 'string' && key.length > 0 && key.length <= MAX_KEY_LENGTH) return this.#name + key;
    throw new NoaError(
      'NOA_RATE_LIMIT_INVALID_KEY',
      `rate limiter: key must be a non-empty string of at most ${MAX_KEY_LENGTH} characters, got ${typeof key === 'string' ? `"${key.slice(0, 40)}" (${key.length} characters)` : typeof key}`,
    );
  }

  #decide(key: string, op: StoreOperation, amount: number): Promise<RateLimitDecision> {
    let full: string;
    try {
      full = this.#key(key);
    } catch (error) {
      return Promise.reject(error);
    }
    if (op === 'consume' || op === 'peek') {
      const blockedMs = this.#blocks.remaining(full);
      if (blockedMs > 0) {
        return Promise.resolve(
          this.#finish(key, blockedDecision(this.policy.burst, blockedMs, 'block-cache')),
        );
      }
    }
    if (this.#sync) {
      const result = this.#sync.applySync(full, this.policy, op, amount, this.#scratch);
      return Promise.resolve(this.#finish(key, this.#toDecision(full, key, result, 'store')));
    }
    return this.#decideAsync(full, key, op, amount);
  }

  #decideAsync(full: string, key: string, op: StoreOperation, amount: number): Promise<RateLimitDecision> {
    return this.#guarded.apply(full, this.policy, op, amount).then(
      (result) => this.#finish(key, this.#toDecision(full, key, result, 'store')),
      (error: unknown) => this.#degraded(full, key, op, amount, error).then((d) => this.#finish(key, d)),
    );
  }

  /** The store failed (or its circuit is open): decide per `onStoreError`. */
  async #degraded(
    full: string,
    key: string,
    op: StoreOperation,
    amount: number,
    error: unknown,
  ): Promise<RateLimitDecision> {
    // An open circuit is the expected state during an outage, not a new error.
    if (!(error instanceof NoaError && error.code === 'NOA_CIRCUIT_OPEN'))
      this.emit('store-error', error, key);
    const policy = this.#onStoreError;
    if (typeof policy === 'object') {
      return this.#toDecision(
        full,
        key,
        await policy.fallback.apply(full, this.policy, op, amount),
        'fallback',
      );
    }
    if (op === 'penalty' || op === 'reward') throw unavailable(error);
    const allowed = policy === 'fail-open';
    return {
      allowed,
      limit: this.policy.burst,
      remaining: allowed ? this.policy.burst : 0,
      resetMs: 0,
      retryAfterMs: allowed ? 0 : this.#halfOpenAfterMs,
      reason: 'store-unavailable',
      decidedBy: 'none',
    };
  }

  async #admin(full: string, op: 'reset' | 'block', amount: number): Promise<void> {
    if (this.#sync) {
      this.#sync.applySync(full, this.policy, op, amount);
      return;
    }
    const fallback = typeof this.#onStoreError === 'object' ? this.#onStoreError.fallback : undefined;
    // The fallback store gets the change too, so a block or reset holds during an outage.
    const local = fallback?.apply(full, this.policy, op, amount);
    try {
      await this.#guarded.apply(full, this.policy, op, amount);
    } catch (error) {
      await local;
      throw unavailable(error);
    }
    await local;
  }

  #toDecision(full: string, key: string, r: StoreResult, decidedBy: 'store' | 'fallback'): RateLimitDecision {
    if (r.blocked) {
      // Read before emitting: a listener may decide again, which refills the shared scratch result.
      const ms = r.retryAfterMs;
      if (this.#blocks.add(full, Date.now() + ms)) this.emit('blocked', key, ms);
      return blockedDecision(this.policy.burst, ms, decidedBy);
    }
    return {
      allowed: r.allowed,
      limit: this.policy.burst,
      remaining: r.remaining,
      resetMs: r.resetMs,
      retryAfterMs: r.retryAfterMs,
      reason: r.allowed ? 'allowed' : 'limited',
      decidedBy,
    };
  }

  #finish(key: string, decision: RateLimitDecision): RateLimitDecision {
    if (decision.reason === 'limited') this.emit('limited', key, decision);
    if (this.#decisions) {
      const series = `${decision.reason}/${decision.decidedBy}`;
      let labels = this.#labels.get(series);
      if (!labels) {
        labels = { limiter: this.#name, reason: decision.reason, decided_by: decision.decidedBy };
        this.#labels.set(series, labels);
      }
      this.#decisions.inc(1, labels);
    }
    return decision;
  }

  async close(): Promise<void> {
    this.#blocks.clear();
    if (this.#ownsStore) await this.store.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function blockedDecision(
  limit: number,
  ms: number,
  decidedBy: RateLimitDecision['decidedBy'],
): RateLimitDecision {
  return { allowed: false, limit, remaining: 0, resetMs: ms, retryAfterMs: ms, reason: 'blocked', decidedBy };
}

function checkPoints(what: string, points: number): void {
  invariant(
    Number.isInteger(points) && points > 0,
    `${what}: points must be an integer >= 1, got ${points}`,
    'NOA_RATE_LIMIT_INVALID_COST',
  );
}

function unavailable(cause: unknown): NoaError {
  return new NoaError(
    'NOA_RATE_LIMIT_STORE_UNAVAILABLE',
    'rate limiter: the store did not answer; the change was not saved there. Check the store (e.g. Redis) and retry',
    { cause },
  );
}

/**
 * A rate limiter: one algorithm and limit, over a store (memory by default, Redis for several
 * processes). See the README for the algorithms' trade-offs.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  return new Limiter(options);
}
