import { invariant } from '@noa/core';
import { ALGORITHM_NAMES } from './algorithms/index.js';
import type { Algorithm, StorePolicy } from './types.js';

/** The limit itself: shared by `createRateLimiter` and each HTTP rule. */
export interface LimitOptions {
  /** Default `sliding-window` (exact: no rolling window ever admits more than `limit`). */
  algorithm?: Algorithm;
  /** Requests (cost units) per window. A positive integer. */
  limit: number;
  windowMs: number;
  /** token-bucket, leaky-bucket and GCRA: the most that can be spent at once. Default `limit`. */
  burst?: number;
  /** Block a key for `blockDurationMs` after this many denials within one window. Default off. */
  blockAfterViolations?: number;
  /** Default `windowMs`. */
  blockDurationMs?: number;
}

const positiveInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value > 0;

/** Validates limit options at the boundary; throws `NOA_INVALID_OPTION` saying what to fix. */
export function resolvePolicy(options: LimitOptions, where = 'createRateLimiter'): StorePolicy {
  invariant(options !== null && typeof options === 'object', `${where}: pass an options object`);
  const { algorithm = 'sliding-window', limit, windowMs, burst, blockAfterViolations = 0 } = options;
  invariant(
    ALGORITHM_NAMES.includes(algorithm),
    `${where}: algorithm must be one of ${ALGORITHM_NAMES.join(', ')}; got ${String(algorithm)}`,
  );
  invariant(positiveInteger(limit), `${where}: limit must be an integer >= 1, got ${String(limit)}`);
  invariant(
    positiveInteger(windowMs),
    `${where}: windowMs must be an integer number of milliseconds >= 1, got ${String(windowMs)}`,
  );
  const windowed = algorithm === 'fixed-window' || algorithm === 'sliding-window';
  invariant(
    burst === undefined || !windowed,
    `${where}: burst applies to token-bucket, leaky-bucket and gcra; ${algorithm} allows exactly limit per window, so remove burst`,
  );
  invariant(
    burst === undefined || positiveInteger(burst),
    `${where}: burst must be an integer >= 1, got ${burst}`,
  );
  invariant(
    blockAfterViolations === 0 || positiveInteger(blockAfterViolations),
    `${where}: blockAfterViolations must be an integer >= 1 (or 0 for never), got ${blockAfterViolations}`,
  );
  const blockDurationMs = options.blockDurationMs ?? windowMs;
  invariant(
    positiveInteger(blockDurationMs),
    `${where}: blockDurationMs must be an integer number of milliseconds >= 1, got ${blockDurationMs}`,
  );
  return { algorithm, limit, windowMs, burst: burst ?? limit, blockAfterViolations, blockDurationMs };
}
