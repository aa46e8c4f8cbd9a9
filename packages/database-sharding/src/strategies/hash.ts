import type { HashingOptions } from '../strategy.js';
import { HashingStrategy } from './hashing.js';

/**
 * `xxh64(key) mod n`: the classic modulo placement, but with a hash specified byte for byte
 * (not a platform string hash), so every process and language agrees. Perfect balance and the
 * cheapest lookup; changing the shard count moves about n/(n+1) of the keys, so prefer jump,
 * consistent or rendezvous hashing when shards come and go.
 */
export class ModuloHashStrategy extends HashingStrategy {
  readonly type = 'hash' as const;
  readonly #n: number;
  readonly #wrap: number;

  constructor(options: HashingOptions) {
    super(options);
    this.#n = this.shards.length;
    this.#wrap = 0x100000000 % this.#n;
  }

  protected pick(hi: number, lo: number): number {
    // (hi * 2^32 + lo) mod n without leaving exact double arithmetic (n <= 2^16).
    return ((hi % this.#n) * this.#wrap + lo) % this.#n;
  }

  withShards(shards: readonly string[]): ModuloHashStrategy {
    return new ModuloHashStrategy({ shards, seed: this.seed });
  }
}

export function hashStrategy(options: HashingOptions): ModuloHashStrategy {
  return new ModuloHashStrategy(options);
}
