import { invariant, NoaError } from '@noa/core';
import { consistentHashStrategy } from './strategies/consistent.js';
import { geoStrategy } from './strategies/geo.js';
import { hashStrategy } from './strategies/hash.js';
import { jumpHashStrategy } from './strategies/jump.js';
import { rangeStrategy } from './strategies/range.js';
import { rendezvousStrategy } from './strategies/rendezvous.js';
import type { ShardStrategy, StrategySpec } from './strategy.js';

export type AnyShardStrategy = ShardStrategy<any, any>;

/** Rebuilds a strategy from its JSON form (`strategy.toSpec()`), as stored in the shard map. */
export function createStrategy(spec: StrategySpec): AnyShardStrategy {
  invariant(
    spec && typeof spec === 'object',
    `a strategy spec is an object with a type, got ${JSON.stringify(spec)}`,
  );
  switch (spec.type) {
    case 'hash':
      return hashStrategy(spec);
    case 'jump':
      return jumpHashStrategy(spec);
    case 'rendezvous':
      return rendezvousStrategy(spec);
    case 'consistent':
      return consistentHashStrategy(spec);
    case 'range':
      return rangeStrategy(spec);
    case 'geo':
      return geoStrategy(spec);
    default:
      throw new NoaError(
        'NOA_SHARDING_UNKNOWN_STRATEGY',
        `Strategy type ${JSON.stringify((spec as { type: unknown }).type)} is unknown; use hash, jump, rendezvous, consistent, range or geo.`,
      );
  }
}
