export {
  type BusHandler,
  type BusMessage,
  type CacheBus,
  decodeBusMessage,
  encodeBusMessage,
} from './bus.js';
export {
  Cache,
  type CacheOptions,
  type CacheStats,
  createCache,
  type GetOrSetOptions,
  type Loader,
  type LoaderContext,
  type SetOptions,
  type TierStats,
} from './cache.js';
export type { CacheEvents } from './events.js';
export type { HttpHeaderOptions } from './http-headers.js';
export type { WarmOptions, WarmResult } from './internal/warm.js';
export { type EvictionReason, MemoryCache, type MemoryCacheOptions } from './memory-cache.js';
export type { EvictionPolicyName } from './policies/policy.js';
export type {
  CacheTier,
  DistributedLock,
  StoredEntry,
  TagVersionStore,
  TierContext,
} from './tier.js';
export { type MemoryTier, type MemoryTierOptions, memoryTier } from './tiers/memory.js';
