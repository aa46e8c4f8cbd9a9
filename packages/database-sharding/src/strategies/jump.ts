import { add64, HI, LO, mul64, R } from '../internal/u64.js';
import type { HashingOptions } from '../strategy.js';
import { HashingStrategy } from './hashing.js';

/**
 * Jump consistent hash (Lamping & Veach, 2014) over the key's XXH64 hash: the same loop and the
 * same 64-bit LCG as the paper, so its results match the reference C++ for the same 64-bit input.
 */
export function jumpBucket(hi: number, lo: number, buckets: number): number {
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    // key = key * 2862933555777941757 + 1 (mod 2^64)
    mul64(hi, lo, 0x27bb2ee6, 0x87b0b0fd);
    add64(R[HI], R[LO], 0, 1);
    hi = R[HI];
    lo = R[LO];
    // j = (b + 1) * (2^31 / ((key >> 33) + 1))
    j = Math.floor((b + 1) * (2147483648 / ((hi >>> 1) + 1)));
  }
  return b;
}

/**
 * Jump consistent hashing: no memory, perfect balance, and growing from n to n+1 shards moves only
 * the 1/(n+1) of keys that belong on the new shard. Shards are numbered by their position, so add
 * new shards at the END of the list; removing or reordering a shard in the middle remaps many keys
 * (use rendezvous or consistent hashing when arbitrary shards must be removable).
 */
export class JumpHashStrategy extends HashingStrategy {
  readonly type = 'jump' as const;

  protected pick(hi: number, lo: number): number {
    return jumpBucket(hi, lo, this.shards.length);
  }

  withShards(shards: readonly string[]): JumpHashStrategy {
    return new JumpHashStrategy({ shards, seed: this.seed });
  }
}

export function jumpHashStrategy(options: HashingOptions): JumpHashStrategy {
  return new JumpHashStrategy(options);
}
