import type { InstanceRecord, ServiceInstance } from './instance.js';

/** Configuration values next to the registry (Consul KV, Redis keys, memory). */
export interface KeyValueStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every key under `prefix` with its value. */
  list(prefix: string): Promise<Record<string, string>>;
}

export interface WatchHandlers {
  /** The full current list of the service's instances, healthy or not. Called first with the initial list. */
  change(instances: ServiceInstance[]): void;
  /** The watch hit an error; it keeps trying on its own. */
  error(error: unknown): void;
}

/**
 * What a registry backend implements: one file per backend (memory, Consul, Redis), each passing the
 * same contract suite. The registry on top validates input, runs health checks the backend does not
 * run itself, shares watches and caches lists.
 */
export interface RegistryBackend {
  readonly name: string;
  /** True when the backend runs HTTP checks itself (Consul's agent); otherwise the registering process does. */
  readonly runsHttpChecks: boolean;
  register(record: InstanceRecord): Promise<void>;
  deregister(service: string, id: string): Promise<void>;
  /**
   * Marks the instance healthy for the next `ttlMs` (a heartbeat or a passing local check).
   * Returns false when the backend no longer knows the instance, so the caller registers it again.
   */
  pass(service: string, id: string, ttlMs: number): Promise<boolean>;
  /** Marks the instance unhealthy now (a failing local check). */
  fail(service: string, id: string, reason: string): Promise<void>;
  instances(service: string): Promise<ServiceInstance[]>;
  /** Names of the registered services. */
  services(): Promise<string[]>;
  /** Calls `handlers.change` with the initial list, then on every change. Returns a stop function. */
  watch(service: string, handlers: WatchHandlers): () => void;
  readonly kv: KeyValueStore;
  close(): Promise<void>;
}
