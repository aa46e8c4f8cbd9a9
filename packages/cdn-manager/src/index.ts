export { type Clock, createSimulatedClock, type SimulatedClock, systemClock } from './clock.js';
export { CdnHttpError, type FetchLike, type RetryPolicy } from './internal/http.js';
export type { HttpProviderOptions, ProviderOptions } from './internal/provider.js';
export type { BucketSpec } from './internal/rate-limiter.js';
export {
  type CdnManager,
  type CdnManagerEvents,
  type CdnManagerOptions,
  createCdnManager,
} from './manager.js';
export { type MemoryCdn, type MemoryProviderOptions, memoryProvider } from './providers/memory.js';
export type {
  CdnProvider,
  PlannedRequest,
  ProviderCapabilities,
  ProviderContext,
  ProviderLimits,
  ProviderPurgeResult,
  PurgeFailure,
  PurgeKind,
  PurgePlan,
  PurgeRequest,
  PurgeResult,
  SignUrlOptions,
} from './types.js';
