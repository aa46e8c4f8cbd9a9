import { hashKeyInto, type ShardKey, validateSeed } from '../hash.js';
import { HI, LO, R } from '../internal/u64.js';
import { type HashingOptions, type ShardStrategy, type StrategySpec, validateShards } from '../strategy.js';

/**
 * The base of the strategies that hash the key with XXH64 and pick a shard from the 64-bit hash.
 * Subclasses implement `pick(hi, lo)`; the key is hashed once per lookup, without allocation.
 */
export abstract class HashingStrategy implements ShardStrategy<ShardKey> {
  abstract readonly type: 'hash' | 'jump' | 'rendezvous' | 'consistent';
  readonly shards: readonly string[];
  readonly seed: number;

  constructor(options: HashingOptions) {
    this.shards = validateShards(options?.shards);
    this.seed = validateSeed(options.seed ?? 0);
  }

  shardFor(key: ShardKey): string {
    hashKeyInto(key, this.seed);
    return this.shards[this.pick(R[HI], R[LO])]!;
  }

  /** The index of the shard for a key whose XXH64 hash is (hi, lo). */
  protected abstract pick(hi: number, lo: number): number;

  abstract withShards(shards: readonly string[]): HashingStrategy;

  toSpec(): StrategySpec {
    return this.seed === 0
      ? { type: this.type, shards: [...this.shards] }
      : { type: this.type, shards: [...this.shards], seed: this.seed };
  }
}
