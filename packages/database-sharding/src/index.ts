export { type AnyShardStrategy, createStrategy } from './create-strategy.js';
export { type ShardKey, xxhash64 } from './hash.js';
export {
  createShardManager,
  type PublishOptions,
  type ShardInfo,
  type ShardManager,
  type ShardManagerEvents,
  type ShardManagerOptions,
  type ShardMapSnapshot,
} from './manager.js';
export {
  type AggregateFunction,
  type AggregateSpec,
  type MergeOptions,
  mergeShardRows,
  type OrderByColumn,
  type ShardPart,
} from './merge.js';
export type {
  MysqlCallbackPool,
  ShardConnection,
  ShardPool,
  ShardRole,
  ShardRows,
  ShardTarget,
  SqlDialect,
} from './pool.js';
export {
  createShardRouter,
  type QueryAllOptions,
  type QueryAllResult,
  type RouteOptions,
  type ShardFailure,
  ShardQueryError,
  type ShardQueryResult,
  type ShardRouter,
  type ShardRouterEvents,
  type ShardRouterOptions,
} from './router.js';
export { ConsistentHashStrategy, consistentHashStrategy } from './strategies/consistent.js';
export { GeoStrategy, geoStrategy } from './strategies/geo.js';
export { hashStrategy, ModuloHashStrategy } from './strategies/hash.js';
export { JumpHashStrategy, jumpBucket, jumpHashStrategy } from './strategies/jump.js';
export { RangeStrategy, rangeStrategy } from './strategies/range.js';
export { RendezvousStrategy, rendezvousStrategy } from './strategies/rendezvous.js';
export type {
  ConsistentHashOptions,
  GeoKey,
  GeoOptions,
  HashingOptions,
  InnerStrategySpec,
  RangeOptions,
  ShardRange,
  ShardStrategy,
  StrategySpec,
  StrategyType,
} from './strategy.js';
