import type { AlgorithmImpl } from './algorithm.js';
import { tokenBucket } from './token-bucket.js';

/**
 * Leaky bucket (as a meter): each request pours `cost` into a bucket of size `burst` that drains
 * at `limit / windowMs`; a request that would overflow is denied. That is the token bucket's
 * arithmetic read from the other side (fill level = tokens missing), so it is the same
 * implementation: both names are offered because both are asked for. `resetMs` is the time to drain.
 */
export const leakyBucket: AlgorithmImpl<unknown> = tokenBucket as AlgorithmImpl<unknown>;
