export {
  type Balancer,
  type BalancerName,
  type BalancerNode,
  createBalancer,
  leastConnectionsBalancer,
  randomBalancer,
  roundRobinBalancer,
  weightedBalancer,
} from './balancer.js';
export type {
  DriverClient,
  DriverConnection,
  DriverParams,
  DriverQueryOptions,
  DriverResult,
  DriverStatement,
  NodeConfig,
  NodeRole,
  NodeState,
  PoolDriver,
  SqlResult,
} from './driver.js';
export {
  type Consistency,
  createPool,
  type NodeStats,
  type Pool,
  type PoolAcquireOptions,
  type PoolConnection,
  type PoolEvents,
  type PoolOptions,
  type PoolStats,
  type QueryOptions,
  type Transaction,
} from './pool.js';
export { lsnReached, mariaGtidReached, offsetReached, parseLsn, parseMariaGtid } from './positions.js';
export {
  type AcquireOptions,
  createResourcePool,
  type DestroyReason,
  type LeakInfo,
  type Lease,
  type ResourceFactory,
  type ResourcePool,
  type ResourcePoolEvents,
  type ResourcePoolOptions,
  type ResourcePoolStats,
} from './resource-pool.js';
