export { abortError, sleep } from './abort.js';
export { type BackoffOptions, backoffDelay, type Jitter, validateBackoff } from './backoff.js';
export {
  type CircuitBreaker,
  type CircuitBreakerEvents,
  type CircuitBreakerOptions,
  type CircuitBreakerStats,
  type CircuitState,
  createCircuitBreaker,
} from './circuit-breaker.js';
export { type CompressionOptions, compressedSerializer } from './compressed-serializer.js';
export { invariant, isNoaError, NoaError } from './errors.js';
export {
  type HealthCheck,
  type HealthCheckResult,
  type HealthReport,
  type HealthStatus,
  runHealthChecks,
} from './health.js';
export { type Logger, noopLogger } from './logger.js';
export {
  type Counter,
  createMemoryMetrics,
  type Gauge,
  type Histogram,
  type HistogramOptions,
  type Labels,
  type MemoryMetrics,
  type MetricOptions,
  type Metrics,
  noopMetrics,
} from './metrics.js';
export { type RetryOptions, retry } from './retry.js';
export { jsonSerializer, type Serializer } from './serializer.js';
export { createSingleFlight, type SingleFlight } from './single-flight.js';
export { withTimeout } from './timeout.js';
export { type EventMap, type Listener, TypedEventEmitter } from './typed-event-emitter.js';
