/** One running copy of a service, as the registry knows it. */
export interface ServiceInstance {
  /** Unique within the service; re-registering the same id replaces the entry. */
  id: string;
  /** The service name, e.g. `users`. */
  name: string;
  /** Host name or IP that clients connect to. */
  address: string;
  port: number;
  tags: string[];
  meta: Record<string, string>;
  /** Relative share of traffic for the weighted balancer. Default 1. */
  weight: number;
  /** Whether its health check currently passes (always true without a check). */
  healthy: boolean;
}

/** How the registry decides an instance is alive. */
export type HealthCheckSpec =
  | {
      /** URL answered with 2xx while the instance is healthy. */
      http: string;
      /** How often to call it. Default 10 000. */
      intervalMs?: number;
      /** Per-call timeout. Default half the interval, at most 5 000. */
      timeoutMs?: number;
      /** Remove an instance that stayed unhealthy this long. Default 60 000. */
      deregisterAfterMs?: number;
    }
  | {
      /** The instance is healthy while heartbeats arrive within this period (sent automatically). */
      ttlMs: number;
      deregisterAfterMs?: number;
    };

/** What a backend receives for a registration: the instance plus its normalised check. */
export interface InstanceRecord {
  instance: Omit<ServiceInstance, 'healthy'>;
  check?: NormalizedCheck;
}

export type NormalizedCheck =
  | { kind: 'http'; url: string; intervalMs: number; timeoutMs: number; deregisterAfterMs: number }
  | { kind: 'ttl'; ttlMs: number; deregisterAfterMs: number };
