export type { AlgorithmImpl, AlgorithmOperation, AlgorithmOutcome } from './algorithms/algorithm.js';
export { type HeaderStyle, type RuleDecision, rateLimitHeaders } from './http/headers.js';
export {
  createRequestLimiter,
  type HttpRequestFacts,
  type RequestLimiter,
  type RequestLimiterOptions,
  type RequestVerdict,
} from './http/request-limiter.js';
export type { KeyPart, RateLimitRule, RequestInfo, RuleMatch } from './http/rule.js';
export type { TrustProxy } from './internal/client-ip.js';
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
