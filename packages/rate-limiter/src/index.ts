export type { AlgorithmImpl, AlgorithmOperation, AlgorithmOutcome } from './algorithms/algorithm.js';
export type { LimitOptions } from './policy.js';
export {
  type ConsumeOptions,
  createRateLimiter,
  type OnStoreError,
  type RateLimiter,
  type RateLimiterEvents,
  type RateLimiterOptions,
} from './rate-limiter.js';
export { MemoryStore, type MemoryStoreOptions, memoryStore } from './stores/memory.js';
export type {
  Algorithm,
  RateLimitDecision,
  RateLimitStore,
  StoreOperation,
  StorePolicy,
  StoreResult,
} from './types.js';
