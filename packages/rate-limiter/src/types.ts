/** The five algorithms; see the README for their trade-offs. */
export type Algorithm = 'token-bucket' | 'leaky-bucket' | 'fixed-window' | 'sliding-window' | 'gcra';

/** What a limiter answers for one key. */
export interface RateLimitDecision {
  /** Whether the request may proceed. */
  allowed: boolean;
  /** The most the key can spend at once: `burst` for the bucket algorithms and GCRA, else `limit`. */
  limit: number;
  /** What the key can still spend right now (after this request, if it was admitted). */
  remaining: number;
  /** Milliseconds until the key is back to its full limit. */
  resetMs: number;
  /** When denied: milliseconds until a request of the same cost could pass; 0 when allowed. */
  retryAfterMs: number;
  /**
   * Why: `allowed`; `limited` (over the limit); `blocked` (by `block()` or `blockAfterViolations`);
   * `store-unavailable` (the store failed and `onStoreError` is `fail-open` or `fail-closed`; never
   * to be confused with `limited`).
   */
  reason: 'allowed' | 'limited' | 'blocked' | 'store-unavailable';
  /** Who decided: the configured store, the `onStoreError` fallback store, the in-process block cache, or nobody (fail-open / fail-closed). */
  decidedBy: 'store' | 'fallback' | 'block-cache' | 'none';
}

/** A limit as the store sees it, already validated. */
export interface StorePolicy {
  algorithm: Algorithm;
  limit: number;
  windowMs: number;
  /** Capacity for token-bucket, leaky-bucket and GCRA (defaults to `limit`); equals `limit` for windows. */
  burst: number;
  /** Denials within one window that block the key; 0 = never. */
  blockAfterViolations: number;
  blockDurationMs: number;
}

/**
 * One store operation. `consume` spends `amount` if it fits; `peek` reads; `penalty` spends
 * `amount` unconditionally; `reward` gives `amount` back; `reset` forgets the key (and its block);
 * `block` blocks the key for `amount` ms.
 */
export type StoreOperation = 'consume' | 'peek' | 'penalty' | 'reward' | 'reset' | 'block';

/** A store's answer; the limiter adds `limit`, `reason` and `decidedBy`. */
export interface StoreResult {
  allowed: boolean;
  remaining: number;
  resetMs: number;
  retryAfterMs: number;
  /** The key is blocked (it was, or this denial blocked it); `retryAfterMs` is the time left. */
  blocked: boolean;
}

/**
 * Where limiter state lives. One call is one atomic decision with the store's own clock, so
 * several processes sharing a store never admit more than the limit. Implementations:
 * `memoryStore()` and `redisStore()` from `@noa/rate-limiter/redis`.
 */
export interface RateLimitStore {
  readonly name: string;
  apply(key: string, policy: StorePolicy, operation: StoreOperation, amount: number): Promise<StoreResult>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
