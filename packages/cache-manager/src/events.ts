import type { BusMessage } from './bus.js';
import type { EvictionReason } from './memory-cache.js';

export type CacheEvents = {
  /** A fresh value was found; `tier` is where. */
  hit: [event: { key: string; tier: string }];
  /** No tier had a fresh value. */
  miss: [event: { key: string }];
  set: [event: { key: string }];
  delete: [event: { key: string }];
  /** A tier dropped an entry by itself. */
  evict: [event: { key: string; tier: string; reason: EvictionReason }];
  /** Another instance's invalidation arrived over the bus and was applied to the local tiers. */
  invalidate: [message: BusMessage];
  /**
   * Something failed that the caller did not see as an exception: a loader error answered with a
   * stale value (`servedStale`), a background refresh, an unreachable tier, a failed purge.
   */
  error: [event: { error: unknown; operation: string; key?: string; tier?: string; servedStale?: boolean }];
};
