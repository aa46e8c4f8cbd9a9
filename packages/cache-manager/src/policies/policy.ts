import type { CacheNode } from '../internal/list.js';

export type EvictionPolicyName = 'lru' | 'lfu' | 'fifo' | 'ttl' | 'adaptive';

/**
 * What MemoryCache tells its eviction policy. Every method is O(1) (amortised for `adaptive`).
 * The cache owns the key → node map; the policy owns the ordering.
 */
export interface EvictionPolicy<V> {
  /** A new node. Returns the node to drop when capacity is exceeded (may be `node` itself if it is not admitted). */
  add(node: CacheNode<V>, now: number): CacheNode<V> | undefined;
  /** A read that found `node`. */
  hit(node: CacheNode<V>): void;
  /** A read of a key that is not cached (the adaptive policy counts it). */
  miss(key: string): void;
  /** `node`'s value or expiry was replaced. */
  update(node: CacheNode<V>, now: number): void;
  /** `node` leaves the cache (delete or expiry). */
  remove(node: CacheNode<V>): void;
  clear(): void;
}
