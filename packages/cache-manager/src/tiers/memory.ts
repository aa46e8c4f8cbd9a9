import { claimTier } from '../internal/claim-tier.js';
import { MemoryCache, type MemoryCacheOptions } from '../memory-cache.js';
import type { EvictionPolicyName } from '../policies/policy.js';
import type { CacheTier, StoredEntry, TierContext } from '../tier.js';

export interface MemoryTierOptions {
  /** Most entries kept. Default 10 000. */
  maxEntries?: number;
  /** Eviction policy. Default `'adaptive'`. */
  policy?: EvictionPolicyName;
  /** Shown in stats and events. Default `'memory'`. */
  name?: string;
  /** Clock, for tests. */
  now?: () => number;
}

/** The in-process tier: values by reference (no serialisation), bounded by `maxEntries`. */
export interface MemoryTier extends CacheTier {
  readonly kind: 'local';
  readonly size: number;
}

export function memoryTier(options: MemoryTierOptions = {}): MemoryTier {
  const { maxEntries = 10_000, policy = 'adaptive', name = 'memory', now = Date.now } = options;
  let context: TierContext | undefined;
  const memoryOptions: MemoryCacheOptions<StoredEntry> = {
    maxEntries,
    policy,
    now,
    onEvict: (key, _entry, reason) => context?.onEvict(key, reason),
  };
  const cache = new MemoryCache<StoredEntry>(memoryOptions);
  return {
    name,
    kind: 'local',
    get size() {
      return cache.size;
    },
    attach(ctx) {
      claimTier(context, name);
      context = ctx;
    },
    get: (key) => cache.get(key),
    set(key, entry) {
      // Kept until the end of the grace period so stale-if-error has something to serve.
      if (entry.staleUntil === 0) return void cache.set(key, entry, Number.POSITIVE_INFINITY);
      const ttlMs = entry.staleUntil - now();
      if (ttlMs > 0) cache.set(key, entry, ttlMs);
      else cache.delete(key);
    },
    delete(keys) {
      for (const key of keys) cache.delete(key);
    },
    clear: () => cache.clear(),
    stats: () => ({ size: cache.size, maxEntries, policy }),
  };
}
