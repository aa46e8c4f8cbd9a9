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
