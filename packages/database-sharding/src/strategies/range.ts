import { invariant, NoaError } from '@noa/core';
import type { ShardKey } from '../hash.js';
import {
  type RangeOptions,
  type ShardRange,
  type ShardStrategy,
  type StrategySpec,
  validateShards,
} from '../strategy.js';

type Bound = number | string;
interface NormalizedRange {
  shard: string;
  from: Bound | null;
  to: Bound | null;
}

const describe = (r: NormalizedRange) => `[${r.from ?? '-∞'}, ${r.to ?? '+∞'}) -> ${r.shard}`;

/**
 * Range sharding: each shard owns half-open intervals `[from, to)` of the key space (numbers, or
 * strings compared by UTF-16 code units). Keys stay ordered, so range scans hit few shards, and
 * hot ranges can be split onto a new shard or merged back. Ranges never overlap; a key in a gap is
 * an error (`NOA_SHARDING_KEY_OUT_OF_RANGE`), never a silent default.
 */
export class RangeStrategy implements ShardStrategy<ShardKey> {
  readonly type = 'range' as const;
  readonly shards: readonly string[];
  readonly #ranges: readonly NormalizedRange[];
  readonly #kind: 'number' | 'string';

  constructor(options: RangeOptions) {
    invariant(
      Array.isArray(options?.ranges) && options.ranges.length > 0,
      'rangeStrategy needs a non-empty `ranges` array of { shard, from, to }',
    );
    const ranges = options.ranges.map((r) => normalize(r));
    const bounds = ranges.flatMap((r) => [r.from, r.to]).filter((b) => b !== null);
    const kinds = new Set(bounds.map((b) => typeof b));
    invariant(kinds.size <= 1, 'range bounds must be all numbers or all strings, not a mix');
    this.#kind = kinds.has('string') ? 'string' : 'number';
    ranges.sort((a, b) => compareBound(a.from, b.from, -1));
    for (let i = 1; i < ranges.length; i++) {
      const previous = ranges[i - 1]!;
      const current = ranges[i]!;
      invariant(
        previous.to !== null && current.from !== null && previous.to <= current.from,
        `ranges ${describe(previous)} and ${describe(current)} overlap; every key must belong to one range`,
      );
    }
    this.#ranges = Object.freeze(ranges);
    const owners = ranges.map((r) => r.shard);
    const listed = options.shards ? validateShards(options.shards) : [];
    for (const owner of owners) {
      invariant(
        !options.shards || listed.includes(owner),
        `range owner "${owner}" is not in shards ${JSON.stringify(listed)}; list every shard that owns a range`,
      );
    }
    this.shards = validateShards(options.shards ?? [...new Set(owners)]);
  }

  /** The ranges, sorted by `from`. */
  get ranges(): ShardRange[] {
    return this.#ranges.map((r) => ({ ...r }));
  }

  shardFor(key: ShardKey): string {
    return this.#ranges[this.#indexOf(key)]!.shard;
  }

  #indexOf(key: ShardKey): number {
    const k = this.#coerce(key);
    const ranges = this.#ranges;
    // The last range whose `from` is <= key.
    let low = 0;
    let high = ranges.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      const from = ranges[mid]!.from;
      if (from === null || from <= k) low = mid + 1;
      else high = mid;
    }
    const range = low > 0 ? ranges[low - 1]! : undefined;
    if (!range || (range.to !== null && k >= range.to)) {
      throw new NoaError(
        'NOA_SHARDING_KEY_OUT_OF_RANGE',
        `Key ${JSON.stringify(key)} is outside every range (${ranges.map(describe).join(', ')}); add a range that covers it.`,
      );
    }
    return low - 1;
  }

  #coerce(key: ShardKey): Bound {
    if (this.#kind === 'number') {
      // Numeric strings are accepted: PostgreSQL bigint and numeric columns arrive as strings.
      const n = typeof key === 'string' && key.trim() !== '' ? Number(key) : key;
      if (typeof n === 'number' && Number.isFinite(n)) return n;
    } else if (typeof key === 'string') {
      return key;
    }
    throw new NoaError(
      'NOA_SHARDING_INVALID_KEY',
      `Key ${JSON.stringify(key)} does not fit ranges over ${this.#kind}s; pass a ${this.#kind === 'number' ? 'finite number' : 'string'}.`,
    );
  }

  /**
   * Splits the range that contains `at` into `[from, at)` (kept by its shard) and `[at, to)`
   * (owned by `shard`). Returns a new strategy.
   */
  split(at: Bound, shard: string): RangeStrategy {
    const i = this.#indexOf(at);
    const range = this.#ranges[i]!;
    invariant(
      range.from === null || range.from !== at,
      `${JSON.stringify(at)} is already the start of ${describe(range)}`,
    );
    const ranges = [...this.#ranges];
    ranges.splice(i, 1, { ...range, to: at }, { shard, from: at, to: range.to });
    return this.#with(ranges, shard);
  }

  /**
   * Merges the range ending at `at` with the adjacent range starting at `at` into one range owned
   * by `shard` (default: the owner of the lower range). Returns a new strategy.
   */
  merge(at: Bound, shard?: string): RangeStrategy {
    const i = this.#ranges.findIndex((r) => r.to === at);
    const lower = this.#ranges[i];
    const upper = this.#ranges[i + 1];
    invariant(
      lower && upper && upper.from === at,
      `no two adjacent ranges meet at ${JSON.stringify(at)}; merge takes the boundary between them`,
    );
    const ranges = [...this.#ranges];
    const owner = shard ?? lower.shard;
    ranges.splice(i, 2, { shard: owner, from: lower.from, to: upper.to });
    return this.#with(ranges, owner);
  }

  /** A new strategy with other ranges and the same known shards (plus any new owners). */
  withRanges(ranges: readonly ShardRange[]): RangeStrategy {
    const owners = ranges.map((r) => r?.shard).filter((s) => typeof s === 'string');
    return new RangeStrategy({ ranges, shards: [...new Set([...this.shards, ...owners])] });
  }

  /**
   * A new strategy that knows `shards`. Ranges do not move: every shard that owns a range must stay
   * listed (reassign its ranges with `split`/`merge`/`withRanges` first).
   */
  withShards(shards: readonly string[]): RangeStrategy {
    const list = validateShards(shards);
    for (const range of this.#ranges) {
      if (!list.includes(range.shard)) {
        throw new NoaError(
          'NOA_SHARDING_SHARD_IN_USE',
          `Shard "${range.shard}" still owns ${describe(range)}; move its ranges with merge() or withRanges() before removing it.`,
        );
      }
    }
    return new RangeStrategy({ ranges: this.#ranges, shards: list });
  }

  /** Ranges change, the known shards stay (a merged-away shard stays known until withShards drops it). */
  #with(ranges: NormalizedRange[], shard: string): RangeStrategy {
    return new RangeStrategy({
      ranges,
      shards: this.shards.includes(shard) ? this.shards : [...this.shards, shard],
    });
  }

  toSpec(): StrategySpec {
    return { type: 'range', ranges: this.ranges, shards: [...this.shards] };
  }
}

function normalize(range: ShardRange): NormalizedRange {
  invariant(
    range && typeof range.shard === 'string' && range.shard.length > 0,
    `every range needs a shard id, got ${JSON.stringify(range)}`,
  );
  const from = bound(range.from, range);
  const to = bound(range.to, range);
  invariant(
    from === null || to === null || typeof from === typeof to,
    'range bounds must be all numbers or all strings, not a mix',
  );
  invariant(
    from === null || to === null || from < to,
    `range ${describe({ shard: range.shard, from, to })} is empty; from must be below to`,
  );
  return { shard: range.shard, from, to };
}

function bound(value: unknown, range: ShardRange): Bound | null {
  if (value === undefined || value === null) return null;
  invariant(
    typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)),
    `range bounds must be finite numbers, strings or null, got ${JSON.stringify(value)} in ${JSON.stringify(range)}`,
  );
  return value;
}

/** Orders bounds with null as -∞ (sign -1) or +∞ (sign 1). */
function compareBound(a: Bound | null, b: Bound | null, nullSign: -1 | 1): number {
  if (a === b) return 0;
  if (a === null) return nullSign;
  if (b === null) return -nullSign;
  return a < b ? -1 : 1;
}

export function rangeStrategy(options: RangeOptions): RangeStrategy {
  return new RangeStrategy(options);
}
