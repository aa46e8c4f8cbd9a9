import { invariant, NoaError } from '@noa/core';
import type { GeoKey, GeoOptions, InnerStrategySpec, ShardStrategy, StrategySpec } from '../strategy.js';
import { consistentHashStrategy } from './consistent.js';
import { hashStrategy } from './hash.js';
import type { HashingStrategy } from './hashing.js';
import { jumpHashStrategy } from './jump.js';
import { rendezvousStrategy } from './rendezvous.js';

type Regions = Readonly<Record<string, readonly string[]>>;

function innerFactory(inner: InnerStrategySpec): (shards: readonly string[]) => HashingStrategy {
  const spec: Exclude<InnerStrategySpec, string> = typeof inner === 'string' ? { type: inner } : inner;
  invariant(
    spec && typeof spec === 'object',
    `inner must be a strategy name or { type, ... }, got ${JSON.stringify(inner)}`,
  );
  const seed = spec.seed;
  switch (spec.type) {
    case 'hash':
      return (shards) => hashStrategy({ shards, seed });
    case 'jump':
      return (shards) => jumpHashStrategy({ shards, seed });
    case 'rendezvous':
      return (shards) => rendezvousStrategy({ shards, seed });
    case 'consistent': {
      const virtualNodes = 'virtualNodes' in spec ? spec.virtualNodes : undefined;
      return (shards) => consistentHashStrategy({ shards, seed, virtualNodes });
    }
    default:
      throw new NoaError(
        'NOA_INVALID_OPTION',
        `inner strategy ${JSON.stringify(inner)} is unknown; use 'hash', 'jump', 'rendezvous' or 'consistent'`,
      );
  }
}

/**
 * Geographic sharding: the key's region picks a set of shards (data stays in its region, for
 * latency or residency rules) and a hash-based strategy places the id within that set.
 * Keys are `{ region, id }`.
 */
export class GeoStrategy implements ShardStrategy<GeoKey, Regions> {
  readonly type = 'geo' as const;
  readonly shards: readonly string[];
  readonly regions: Regions;
  readonly inner: InnerStrategySpec;
  readonly defaultRegion: string | undefined;
  readonly #byRegion: Map<string, HashingStrategy>;
  readonly #fallback: HashingStrategy | undefined;

  constructor(options: GeoOptions) {
    invariant(
      options?.regions && typeof options.regions === 'object' && Object.keys(options.regions).length > 0,
      'geoStrategy needs `regions`: { region: [shard ids] } with at least one region',
    );
    this.inner = options.inner ?? 'hash';
    const make = innerFactory(this.inner);
    this.#byRegion = new Map();
    const regions: Record<string, readonly string[]> = {};
    for (const [region, shards] of Object.entries(options.regions)) {
      const strategy = make(shards);
      this.#byRegion.set(region, strategy);
      regions[region] = strategy.shards;
    }
    this.regions = Object.freeze(regions);
    this.shards = Object.freeze([...new Set(Object.values(regions).flat())]);
    this.defaultRegion = options.defaultRegion;
    if (options.defaultRegion !== undefined) {
      this.#fallback = this.#byRegion.get(options.defaultRegion);
      invariant(this.#fallback, `defaultRegion "${options.defaultRegion}" is not one of the regions`);
    }
  }

  shardFor(key: GeoKey): string {
    if (key === null || typeof key !== 'object' || typeof key.region !== 'string') {
      throw new NoaError(
        'NOA_SHARDING_INVALID_KEY',
        `A geographic shard key is { region, id }, got ${JSON.stringify(key)}.`,
      );
    }
    const strategy = this.#byRegion.get(key.region) ?? this.#fallback;
    if (!strategy) {
      throw new NoaError(
        'NOA_SHARDING_UNKNOWN_REGION',
        `Region "${key.region}" has no shards (regions: ${[...this.#byRegion.keys()].join(', ')}); add it or set defaultRegion.`,
      );
    }
    return strategy.shardFor(key.id);
  }

  /** A new strategy with other regions, keeping the inner strategy and the default region. */
  withShards(regions: Regions): GeoStrategy {
    return new GeoStrategy({ regions, inner: this.inner, defaultRegion: this.defaultRegion });
  }

  toSpec(): StrategySpec {
    const spec: StrategySpec = {
      type: 'geo',
      regions: Object.fromEntries(Object.entries(this.regions).map(([r, s]) => [r, [...s]])),
      inner: this.inner,
    };
    if (this.defaultRegion !== undefined) spec.defaultRegion = this.defaultRegion;
    return spec;
  }
}

export function geoStrategy(options: GeoOptions): GeoStrategy {
  return new GeoStrategy(options);
}
