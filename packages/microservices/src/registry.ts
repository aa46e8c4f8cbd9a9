import { invariant, type Logger, NoaError, noopLogger, TypedEventEmitter } from '@noa/core';
import { type InstancesListener, ServiceView } from './discovery.js';
import type { HealthCheckSpec, InstanceRecord, NormalizedCheck, ServiceInstance } from './instance.js';
import { startLocalCheck } from './internal/local-check.js';
import type { KeyValueStore, RegistryBackend } from './registry-backend.js';

export interface RegisterOptions {
  name: string;
  /** Default `<name>-<address>-<port>`, so a restarted instance replaces its old entry. */
  id?: string;
  address: string;
  port: number;
  tags?: string[];
  meta?: Record<string, string>;
  /** Share of traffic for the weighted balancer. Default 1. */
  weight?: number;
  check?: HealthCheckSpec;
}

export interface Registration {
  readonly id: string;
  readonly instance: ServiceInstance;
  /** Removes the instance and stops its heartbeats/checks. Idempotent. */
  deregister(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface InstancesOptions {
  /** Only instances whose check passes. Default false (each carries `healthy`). */
  healthyOnly?: boolean;
}

/** A live, locally cached list of one service's instances. */
export interface Discovery {
  readonly service: string;
  /** Resolves once the first list arrived. */
  readonly ready: Promise<void>;
  /** The cached list: no network call. */
  instances(options?: InstancesOptions): ServiceInstance[];
  close(): void;
}

export type ServiceRegistryEvents = {
  change: [service: string, instances: ServiceInstance[]];
  error: [error: unknown];
};

export interface ServiceRegistry extends TypedEventEmitter<ServiceRegistryEvents> {
  readonly backend: RegistryBackend;
  register(options: RegisterOptions): Promise<Registration>;
  /** From the local cache when a watch is running for the service, otherwise one backend read. */
  instances(service: string, options?: InstancesOptions): Promise<ServiceInstance[]>;
  /** Calls `listener` with the current list, then on every change. Returns the unsubscribe function. */
  watch(service: string, listener: InstancesListener, options?: InstancesOptions): () => void;
  /** A cached view for hot paths (the service client uses this). */
  discover(service: string): Discovery;
  services(): Promise<string[]>;
  /** Configuration values stored in the backend (Consul KV, Redis keys, memory). */
  readonly kv: KeyValueStore;
  /** Deregisters what this registry registered, stops watches, closes the backend. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface ServiceRegistryOptions {
  backend: RegistryBackend;
  logger?: Logger;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function validateServiceName(name: unknown, what = 'service name'): asserts name is string {
  invariant(
    typeof name === 'string' && NAME.test(name),
    `${what} must be 1-128 letters, digits, '.', '_' or '-' (starting with a letter or digit), got ${JSON.stringify(name)}`,
    'NOA_REGISTRY_INVALID_NAME',
  );
}

function normalizeCheck(check: HealthCheckSpec | undefined): NormalizedCheck | undefined {
  if (check === undefined) return undefined;
  const bad = (message: string) => new NoaError('NOA_REGISTRY_INVALID_CHECK', message);
  const deregisterAfterMs = check.deregisterAfterMs ?? 60_000;
  if (!(Number.isFinite(deregisterAfterMs) && deregisterAfterMs >= 1_000))
    throw bad('check.deregisterAfterMs must be a number >= 1000');
  if ('http' in check && check.http !== undefined) {
    let url: URL;
    try {
      url = new URL(check.http);
    } catch {
      throw bad(`check.http must be an absolute http(s) URL, got ${JSON.stringify(check.http)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw bad(`check.http must be an http(s) URL, got ${url.protocol}`);
    const intervalMs = check.intervalMs ?? 10_000;
    if (!(Number.isFinite(intervalMs) && intervalMs >= 100)) throw bad('check.intervalMs must be >= 100');
    const timeoutMs = check.timeoutMs ?? Math.min(5_000, Math.floor(intervalMs / 2));
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0 && timeoutMs <= intervalMs))
      throw bad('check.timeoutMs must be > 0 and <= intervalMs');
    return { kind: 'http', url: url.href, intervalMs, timeoutMs, deregisterAfterMs };
  }
  if ('ttlMs' in check) {
    if (!(Number.isFinite(check.ttlMs) && check.ttlMs >= 300)) throw bad('check.ttlMs must be >= 300');
    return { kind: 'ttl', ttlMs: check.ttlMs, deregisterAfterMs };
  }
  throw bad('check needs either { http, intervalMs } or { ttlMs }');
}

function toRecord(options: RegisterOptions): InstanceRecord {
  invariant(
    options && typeof options === 'object',
    'register: options are required',
    'NOA_REGISTRY_INVALID_INSTANCE',
  );
  const { name, address, port, tags = [], meta = {}, weight = 1 } = options;
  validateServiceName(name);
  invariant(
    typeof address === 'string' && address.length > 0 && !/[\s/]/.test(address),
    `register: address must be a host name or IP, got ${JSON.stringify(address)}`,
    'NOA_REGISTRY_INVALID_INSTANCE',
  );
  invariant(
    Number.isInteger(port) && port > 0 && port < 65_536,
    `register: port must be an integer 1-65535, got ${port}; register after listen() so the real port is known`,
    'NOA_REGISTRY_INVALID_INSTANCE',
  );
  invariant(
    Number.isFinite(weight) && weight > 0,
    'register: weight must be a number > 0',
    'NOA_REGISTRY_INVALID_INSTANCE',
  );
  invariant(
    Array.isArray(tags) && tags.every((t) => typeof t === 'string'),
    'register: tags must be strings',
    'NOA_REGISTRY_INVALID_INSTANCE',
  );
  invariant(
    Object.values(meta).every((v) => typeof v === 'string'),
    'register: meta values must be strings',
    'NOA_REGISTRY_INVALID_INSTANCE',
  );
  const id = options.id ?? `${name}-${address}-${port}`.replace(/[^A-Za-z0-9_.-]/g, '_');
  validateServiceName(id, 'instance id');
  return {
    instance: { id, name, address, port, tags: [...tags], meta: { ...meta }, weight },
    check: normalizeCheck(options.check),
  };
}

class Registry extends TypedEventEmitter<ServiceRegistryEvents> implements ServiceRegistry {
  readonly backend: RegistryBackend;
  readonly #logger: Logger;
  readonly #views = new Map<string, ServiceView>();
  readonly #registrations = new Set<Registration>();
  #closed = false;

  constructor({ backend, logger = noopLogger }: ServiceRegistryOptions) {
    super();
    invariant(
      backend && typeof backend.register === 'function',
      'createServiceRegistry: backend is required, e.g. memoryRegistry(), redisRegistry({ client }) or consulRegistry({ host, port })',
    );
    this.backend = backend;
    this.#logger = logger;
  }

  get kv(): KeyValueStore {
    return this.backend.kv;
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new NoaError('NOA_REGISTRY_CLOSED', 'the service registry is closed; create a new one');
  }

  #onError = (error: unknown) => {
    this.#logger.warn({ err: error, backend: this.backend.name }, 'service registry: backend error');
    this.emit('error', error);
  };

  async register(options: RegisterOptions): Promise<Registration> {
    this.#assertOpen();
    const record = toRecord(options);
    await this.backend.register(record);
    await this.#refresh(record.instance.name);
    const stopCheck = startLocalCheck(this.backend, record, this.#onError);
    let done: Promise<void> | undefined;
    const registration: Registration = {
      id: record.instance.id,
      instance: { ...record.instance, healthy: true },
      deregister: () => {
        done ??= (async () => {
          stopCheck();
          this.#registrations.delete(registration);
          await this.backend.deregister(record.instance.name, record.instance.id);
          await this.#refresh(record.instance.name);
        })();
        return done;
      },
      [Symbol.asyncDispose]: () => registration.deregister(),
    };
    this.#registrations.add(registration);
    this.#logger.info({ service: record.instance.name, id: record.instance.id }, 'service registered');
    return registration;
  }

  /** Reads a service again after a local change, so this process reads its own writes. */
  async #refresh(service: string): Promise<void> {
    const view = this.#views.get(service);
    if (view) view.update(await this.backend.instances(service));
  }

  async instances(
    service: string,
    { healthyOnly = false }: InstancesOptions = {},
  ): Promise<ServiceInstance[]> {
    this.#assertOpen();
    validateServiceName(service);
    const view = this.#views.get(service);
    if (view?.synced) return [...view.instances(healthyOnly)];
    const list = await this.backend.instances(service);
    return healthyOnly ? list.filter((i) => i.healthy) : list;
  }

  #acquire(service: string): ServiceView {
    this.#assertOpen();
    validateServiceName(service);
    let view = this.#views.get(service);
    if (!view) {
      view = new ServiceView(service, this.backend, this.#onError);
      view.subscribe((list) => this.emit('change', service, list), false);
      this.#views.set(service, view);
    }
    view.refs++;
    return view;
  }

  #release(view: ServiceView): void {
    if (--view.refs > 0 || this.#views.get(view.service) !== view) return;
    this.#views.delete(view.service);
    view.close();
  }

  watch(
    service: string,
    listener: InstancesListener,
    { healthyOnly = false }: InstancesOptions = {},
  ): () => void {
    invariant(typeof listener === 'function', 'watch: listener must be a function');
    const view = this.#acquire(service);
    const unsubscribe = view.subscribe(listener, healthyOnly);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      unsubscribe();
      this.#release(view);
    };
  }

  discover(service: string): Discovery {
    const view = this.#acquire(service);
    let active = true;
    return {
      service,
      ready: view.ready,
      instances: ({ healthyOnly = true } = {}) => view.instances(healthyOnly),
      close: () => {
        if (!active) return;
        active = false;
        this.#release(view);
      },
    };
  }

  services(): Promise<string[]> {
    this.#assertOpen();
    return this.backend.services();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const results = await Promise.allSettled([...this.#registrations].map((r) => r.deregister()));
    for (const result of results) if (result.status === 'rejected') this.#onError(result.reason);
    for (const view of this.#views.values()) view.close();
    this.#views.clear();
    await this.backend.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** The service registry: registration with health checks, cached discovery, watches and KV over one backend. */
export function createServiceRegistry(options: ServiceRegistryOptions): ServiceRegistry {
  return new Registry(options);
}
