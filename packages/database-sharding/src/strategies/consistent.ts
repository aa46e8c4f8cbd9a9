import { invariant } from '@noa/core';
import { hashKeyInto } from '../hash.js';
import { HI, R } from '../internal/u64.js';
import type { ConsistentHashOptions, StrategySpec } from '../strategy.js';
import { HashingStrategy } from './hashing.js';

/**
 * A consistent-hash ring: each shard owns `virtualNodes` points (the top 32 bits of
 * XXH64(`${shard}#${i}`)); a key goes to the first point at or after its own hash, wrapping
 * around. Adding or removing any shard moves only the keys of the arcs it gains or loses. A lookup
 * is a binary search over n * virtualNodes points.
 */
export class ConsistentHashStrategy extends HashingStrategy {
  readonly type = 'consistent' as const;
  readonly virtualNodes: number;
  readonly #points: Uint32Array;
  readonly #owners: Uint32Array;

  constructor(options: ConsistentHashOptions) {
    super(options);
    const virtualNodes = options.virtualNodes ?? 160;
    invariant(
      Number.isInteger(virtualNodes) && virtualNodes >= 1 && virtualNodes <= 10_000,
      `virtualNodes must be an integer from 1 to 10000, got ${virtualNodes}`,
    );
    this.virtualNodes = virtualNodes;
    const n = this.shards.length;
    const points: { point: number; owner: number }[] = [];
    for (let s = 0; s < n; s++) {
      for (let v = 0; v < virtualNodes; v++) {
        hashKeyInto(`${this.shards[s]}#${v}`, this.seed);
        points.push({ point: R[HI], owner: s });
      }
    }
    // Equal points (rare) are ordered by shard id, so the ring does not depend on the list order.
    points.sort((a, b) => a.point - b.point || (this.shards[a.owner]! < this.shards[b.owner]! ? -1 : 1));
    this.#points = Uint32Array.from(points, (p) => p.point);
    this.#owners = Uint32Array.from(points, (p) => p.owner);
  }

  protected pick(hi: number): number {
    const points = this.#points;
    let low = 0;
    let high = points.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (points[mid]! < hi) low = mid + 1;
      else high = mid;
    }
    return this.#owners[low === points.length ? 0 : low]!;
  }

  withShards(shards: readonly string[]): ConsistentHashStrategy {
    return new ConsistentHashStrategy({ shards, seed: this.seed, virtualNodes: this.virtualNodes });
  }

  override toSpec(): StrategySpec {
    return { ...super.toSpec(), type: 'consistent', virtualNodes: this.virtualNodes } as StrategySpec;
  }
}

export function consistentHashStrategy(options: ConsistentHashOptions): ConsistentHashStrategy {
  return new ConsistentHashStrategy(options);
}
