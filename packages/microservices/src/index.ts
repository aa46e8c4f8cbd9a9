export { type MemoryRegistryOptions, memoryRegistry } from './backends/memory.js';
export { type Balancer, type BalancerName, type BalancerOptions, createBalancer } from './balancer.js';
export type { P2cEwmaOptions } from './balancers/p2c-ewma.js';
export {
  type BusEvent,
  createEventBus,
  type EventBus,
  type EventBusOptions,
  type EventQueue,
  type EventSubscription,
} from './event-bus.js';
export type { HealthCheckSpec, InstanceRecord, NormalizedCheck, ServiceInstance } from './instance.js';
export { type OutlierDetectionOptions, OutlierDetector } from './outlier-detector.js';
export {
  createServiceRegistry,
  type Discovery,
  type InstancesOptions,
  type RegisterOptions,
  type Registration,
  type ServiceRegistry,
  type ServiceRegistryEvents,
  type ServiceRegistryOptions,
} from './registry.js';
export type { KeyValueStore, RegistryBackend, WatchHandlers } from './registry-backend.js';
export {
  type CreateServiceOptions,
  createService,
  Reply,
  type RouteContext,
  type RouteHandler,
  respond,
  type Service,
} from './service.js';
export {
  createServiceClient,
  type HeaderValue,
  type RetryPolicy,
  type ServiceClient,
  type ServiceClientEvents,
  type ServiceClientOptions,
  type ServiceRequest,
  type ServiceResponse,
  type ServiceStreamResponse,
} from './service-client.js';
