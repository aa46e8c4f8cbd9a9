import { hashKeyInto } from '../src/hash.js';
import { HI, LO, R } from '../src/internal/u64.js';

/**
 * Maglev hashing (Eisenbud et al., NSDI 2016), for the benchmark: each shard fills a lookup table
 * of prime size M following its own permutation (offset, skip); a key goes to table[hash % M].
 * O(1) lookups and near-perfect balance; adding or removing a shard moves slightly more than the
 * ideal share. Hashes are XXH64 with seeds 1 (offset) and 2 (skip) of the shard id.
 */
export class MaglevTable {
  readonly shards: readonly string[];
  readonly #table: Uint16Array;
  readonly #size: number;

  constructor(shards: readonly string[], size = 65_537) {
    this.shards = shards;
    this.#size = size;
    const n = shards.length;
    const offset = new Uint32Array(n);
    const skip = new Uint32Array(n);
    shards.forEach((shard, i) => {
      hashKeyInto(shard, 1);
      offset[i] = (R[HI] % size) * (0x100000000 % size) + (R[LO] % size);
      offset[i] = offset[i]! % size;
      hashKeyInto(shard, 2);
      skip[i] = (((R[HI] % (size - 1)) * (0x100000000 % (size - 1)) + (R[LO] % (size - 1))) % (size - 1)) + 1;
    });
    const next = new Uint32Array(n);
    const table = new Int32Array(size).fill(-1);
    let filled = 0;
    while (filled < size) {
      for (let i = 0; i < n && filled < size; i++) {
        let c = (offset[i]! + next[i]! * skip[i]!) % size;
        while (table[c]! >= 0) {
          next[i]!++;
          c = (offset[i]! + next[i]! * skip[i]!) % size;
        }
        table[c] = i;
        next[i]!++;
        filled++;
      }
    }
    this.#table = Uint16Array.from(table);
  }

  shardFor(key: string | number): string {
    hashKeyInto(key, 0);
    const size = this.#size;
    return this.shards[this.#table[((R[HI] % size) * (0x100000000 % size) + (R[LO] % size)) % size]!]!;
  }
}
