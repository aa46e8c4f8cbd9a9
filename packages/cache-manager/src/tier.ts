import type { Logger, Metrics, Serializer } from '@noa/core';
import type { EvictionReason } from './memory-cache.js';

/** What every tier stores for a key: the value plus the metadata freshness, grace and tags need. */
export interface StoredEntry<V = unknown> {
  value: V;
  /** Epoch ms until which the value is fresh; 0 = forever. */
  freshUntil: number;
  /** Epoch ms until which the value may still be served stale (freshUntil + grace); 0 = forever. */
  staleUntil: number;
  /** Tags and their versions when the value was written; a newer version invalidates the entry. */
  tags?: readonly string[];
  tagVersions?: readonly number[];
  /**
   * XFetch's delta in ms: how long the loader took, but at least 1 % of the TTL so that fast
   * loaders still refresh before expiry. Bigger delta = earlier refresh.
   */
  deltaMs: number;
}

/** Shared tag versions: tag invalidation is one increment per tag, entries are checked on read. */
export interface TagVersionStore {
  /**
   * Current versions (0 for a tag never invalidated), in the order of `tags`. `deadline` (epoch ms)
   * is when the cache call that needs them must have its answer.
   */
  get(tags: readonly string[], deadline?: number): Promise<number[]>;
  /** Increments each tag's version; returns the new versions. */
  bump(tags: readonly string[]): Promise<number[]>;
}

/** A lease that makes one process in the cluster run a loader (`lock: 'distributed'`). */
export interface DistributedLock {
  /**
   * A token when acquired, undefined when someone else holds the lease. `deadline` (epoch ms) is
   * when the cache call that asks must have its answer; past it, the call loads without the lease.
   */
  acquire(key: string, leaseMs: number, deadline?: number): Promise<string | undefined>;
  /** Extends the lease while the holder is still working; false when it was lost. */
  extend(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Releases only when `token` still owns the lease. */
  release(key: string, token: string): Promise<void>;
}

/** Handed to a tier once, when the cache that owns it is created. */
export interface TierContext {
  namespace: string;
  serializer: Serializer;
  logger: Logger;
  metrics: Metrics;
  /** Report an entry the tier dropped by itself (capacity, expiry). */
  onEvict(key: string, reason: EvictionReason): void;
  /** Report a background failure (e.g. a batched purge) that no caller awaits. */
  onError(error: unknown, operation: string): void;
}

/**
 * One level of a cache: memory, Redis, a CDN edge. Methods may be synchronous (memory) or return
 * promises (remote tiers). Remote tiers bound their own latency (timeouts, circuit breaker) and
 * throw on failure; the cache turns failures into `error` events and carries on with other tiers.
 */
export interface CacheTier {
  readonly name: string;
  /**
   * `local`: one copy per process (memory), kept coherent across instances by the bus.
   * `shared`: one copy for every instance (Redis). `edge`: write-only, invalidated by purges (CDN).
   */
  readonly kind: 'local' | 'shared' | 'edge';
  /** Remote tiers: the longest one of their calls may take. A cache call waits at most the largest of these. */
  readonly timeoutMs?: number;
  attach(context: TierContext): void;
  get(key: string): StoredEntry | undefined | Promise<StoredEntry | undefined>;
  set(key: string, entry: StoredEntry): void | Promise<void>;
  delete(keys: readonly string[]): void | Promise<void>;
  clear(): void | Promise<void>;
  /** For tiers that need to act on tag invalidation themselves (CDN purges by surrogate key). */
  invalidateTags?(tags: readonly string[]): void | Promise<void>;
  /** Shared tiers keep tag versions where every instance sees them. */
  readonly tagVersions?: TagVersionStore;
  /** Shared tiers may provide the lease used by `lock: 'distributed'`. */
  readonly lock?: DistributedLock;
  /** Extra numbers for `cache.stats()` (size, breaker state). */
  stats?(): Record<string, number | string>;
  close?(): Promise<void>;
}
