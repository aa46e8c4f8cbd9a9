import { NoaError } from '@noa/core';

/** Long enough for any sane key, short enough for the bus's 16-bit length fields. */
export const MAX_KEY_LENGTH = 16_384;

/** Keys are non-empty strings: anything else is a bug in the caller, so it fails loudly. */
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    if (typeof key === 'string' && key.length > MAX_KEY_LENGTH) {
      throw new NoaError(
        'NOA_CACHE_INVALID_KEY',
        `cache keys must be at most ${MAX_KEY_LENGTH} characters, got ${key.length}; hash long keys first`,
      );
    }
    throw new NoaError(
      'NOA_CACHE_INVALID_KEY',
      `cache keys must be non-empty strings, got ${key === '' ? 'an empty string' : typeof key}; build one with e.g. \`user:\${id}\``,
    );
  }
}

/** A TTL is a positive number of milliseconds, or Infinity for "never expires". */
export function assertTtl(ttlMs: unknown, what = 'ttlMs'): asserts ttlMs is number {
  if (typeof ttlMs !== 'number' || Number.isNaN(ttlMs) || ttlMs <= 0) {
    throw new NoaError(
      'NOA_CACHE_INVALID_TTL',
      `${what} must be a number of milliseconds > 0 (or Infinity for no expiry), got ${String(ttlMs)}`,
    );
  }
}

/** A duration that may be zero (grace periods, timeouts). */
export function assertDuration(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new NoaError(
      'NOA_CACHE_INVALID_TTL',
      `${what} must be a number of milliseconds >= 0, got ${String(value)}`,
    );
  }
}

/** Turns a TTL into an absolute expiry (0 = never). */
export function expiryOf(ttlMs: number, now: number): number {
  return ttlMs === Number.POSITIVE_INFINITY ? 0 : now + ttlMs;
}
