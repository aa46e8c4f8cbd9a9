import { hashKeyInto } from '../hash.js';
import { fmix32, HI, LO, R } from '../internal/u64.js';
import type { HashingOptions } from '../strategy.js';
import { HashingStrategy } from './hashing.js';

/**
 * Rendezvous (highest random weight) hashing: every shard scores the key and the highest score
 * wins. Adding a shard moves only the keys it now wins; removing ANY shard moves only that shard's
 * keys, whatever its position in the list. A lookup costs one score per shard (O(n)).
 */
export class RendezvousStrategy extends HashingStrategy {
  readonly type = 'rendezvous' as const;
  readonly #shardHi: Uint32Array;
  readonly #shardLo: Uint32Array;

  constructor(options: HashingOptions) {
    super(options);
    const n = this.shards.length;
    this.#shardHi = new Uint32Array(n);
    this.#shardLo = new Uint32Array(n);
    this.shards.forEach((shard, i) => {
      hashKeyInto(shard, this.seed);
      this.#shardHi[i] = R[HI];
      this.#shardLo[i] = R[LO];
    });
  }

  protected pick(hi: number, lo: number): number {
    const shardHi = this.#shardHi;
    const shardLo = this.#shardLo;
    let best = 0;
    let bestScore = -1;
    for (let i = 0; i < shardHi.length; i++) {
      // Both halves of the key hash and of the shard hash feed the score through two avalanches.
      const score = fmix32((fmix32(lo ^ shardLo[i]!) + (hi ^ shardHi[i]!)) >>> 0);
      // Ties (about one key in 2^32 / n) go to the smaller shard id, so list order never matters.
      if (score > bestScore || (score === bestScore && this.shards[i]! < this.shards[best]!)) {
        best = i;
        bestScore = score;
      }
    }
    return best;
  }

  withShards(shards: readonly string[]): RendezvousStrategy {
    return new RendezvousStrategy({ shards, seed: this.seed });
  }
}

export function rendezvousStrategy(options: HashingOptions): RendezvousStrategy {
  return new RendezvousStrategy(options);
}
