import { invariant } from '@noa/core';
import type { ShardKey } from './hash.js';

export type StrategyType = 'hash' | 'jump' | 'rendezvous' | 'consistent' | 'range' | 'geo';

/**
 * Maps a key to a shard id. Strategies are immutable values: `withShards` returns a new strategy
 * and leaves this one unchanged, so a router can swap strategies atomically while lookups run.
 * `toSpec()` is the JSON form stored in the shard map (`createStrategy(spec)` rebuilds it).
 */
export interface ShardStrategy<K = ShardKey, S = readonly string[]> {
  readonly type: StrategyType;
  /** Every shard this strategy can return, in the order given. */
  readonly shards: readonly string[];
  shardFor(key: K): string;
  withShards(shards: S): ShardStrategy<K, S>;
  toSpec(): StrategySpec;
}

/** Options shared by the hash-based strategies. */
export interface HashingOptions {
  shards: readonly string[];
  /** 32-bit seed of the XXH64 hash (default 0). Changing it remaps every key. */
  seed?: number;
}

export interface ConsistentHashOptions extends HashingOptions {
  /** Points per shard on the ring (default 160); more points, better balance, slower rebuilds. */
  virtualNodes?: number;
}

/** A half-open interval `[from, to)` of keys; `null`/absent bounds are unbounded. */
export interface ShardRange {
  shard: string;
  from?: number | string | null;
  to?: number | string | null;
}

export interface RangeOptions {
  ranges: readonly ShardRange[];
  /** Shards known to the strategy beyond those that own a range (for example, a new empty shard). */
  shards?: readonly string[];
}

/** The strategy used inside each region of a geographic strategy. */
export type InnerStrategySpec =
  | 'hash'
  | 'jump'
  | 'rendezvous'
  | 'consistent'
  | { type: 'hash' | 'jump' | 'rendezvous'; seed?: number }
  | { type: 'consistent'; seed?: number; virtualNodes?: number };

export interface GeoOptions {
  /** Region name -> the shards that hold that region's data. */
  regions: Readonly<Record<string, readonly string[]>>;
  /** How a key is placed among its region's shards (default 'hash'). */
  inner?: InnerStrategySpec;
  /** Region used for keys whose region is not listed (default: such keys are an error). */
  defaultRegion?: string;
}

/** A key of a geographic strategy: the region picks the shard set, the id the shard within it. */
export interface GeoKey {
  region: string;
  id: ShardKey;
}

/** The JSON form of a strategy, as stored in the shard map. */
export type StrategySpec =
  | ({ type: 'hash' | 'jump' | 'rendezvous' } & HashingOptions)
  | ({ type: 'consistent' } & ConsistentHashOptions)
  | ({ type: 'range' } & RangeOptions)
  | ({ type: 'geo' } & GeoOptions);

const MAX_SHARDS = 65_536;

/** Validates a shard list: a non-empty array of unique, non-empty strings. Returns a frozen copy. */
export function validateShards(shards: unknown, what = 'shards'): readonly string[] {
  invariant(
    Array.isArray(shards) && shards.length > 0,
    `${what} must be a non-empty array of shard ids, got ${JSON.stringify(shards)}`,
  );
  invariant(
    shards.length <= MAX_SHARDS,
    `${what} has ${shards.length} shards; at most ${MAX_SHARDS} are supported`,
  );
  const seen = new Set<string>();
  for (const shard of shards) {
    invariant(
      typeof shard === 'string' && shard.length > 0,
      `${what} must contain non-empty strings, got ${JSON.stringify(shard)}`,
    );
    invariant(!seen.has(shard), `${what} lists shard "${shard}" twice; shard ids must be unique`);
    seen.add(shard);
  }
  return Object.freeze([...(shards as string[])]);
}
