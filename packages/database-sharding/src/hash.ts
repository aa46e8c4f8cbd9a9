import { invariant } from '@noa/core';
import { keyBytes, sharedBuffer } from './internal/key-bytes.js';
import { HI, LO, R } from './internal/u64.js';
import { xxh64Into } from './internal/xxhash64.js';

/** A shard key: a string, or a finite number (hashed as `String(n)`, so `42` and `'42'` agree). */
export type ShardKey = string | number;

/** Hashes a key with XXH64; the 64-bit result is left in `R` (internal hot path, no allocation). */
export function hashKeyInto(key: unknown, seed: number): void {
  const length = keyBytes(key);
  xxh64Into(sharedBuffer(), length, seed);
}

export function validateSeed(seed: number): number {
  invariant(
    Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff,
    `seed must be an integer between 0 and 2^32-1, got ${seed}`,
  );
  return seed;
}

/**
 * XXH64 of a key (UTF-8 of a string, `String(n)` of a number) or of raw bytes, as an unsigned
 * 64-bit bigint: the same value `xxh64` gives in any other language, for checking a mapping outside
 * Node. `seed` is a 32-bit unsigned integer.
 */
export function xxhash64(input: ShardKey | Uint8Array, seed = 0): bigint {
  validateSeed(seed);
  if (input instanceof Uint8Array) xxh64Into(input, input.length, seed);
  else hashKeyInto(input, seed);
  return (BigInt(R[HI]) << 32n) | BigInt(R[LO]);
}
