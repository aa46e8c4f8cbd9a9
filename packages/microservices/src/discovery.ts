import type { ServiceInstance } from './instance.js';
import type { RegistryBackend } from './registry-backend.js';

export type InstancesListener = (instances: ServiceInstance[]) => void;

/**
 * The locally cached view of one service, fed by one backend watch however many clients and
 * watchers read it, so a lookup costs no network call.
 */
export class ServiceView {
  #all: ServiceInstance[] = [];
  #healthy: ServiceInstance[] = [];
  #synced = false;
  #listeners = new Set<{ fn: InstancesListener; healthyOnly: boolean }>();
  #stop: () => void;
  readonly #onError: (error: unknown) => void;
  #resolveReady!: () => void;
  readonly ready: Promise<void>;
  refs = 0;

  constructor(
    readonly service: string,
    backend: RegistryBackend,
    onError: (error: unknown) => void,
  ) {
    this.#onError = onError;
    this.ready = new Promise((resolve) => {
      this.#resolveReady = resolve;
    });
    this.#stop = backend.watch(service, { change: (list) => this.update(list), error: onError });
  }

  get synced(): boolean {
    return this.#synced;
  }

  instances(healthyOnly: boolean): ServiceInstance[] {
    return healthyOnly ? this.#healthy : this.#all;
  }

  /** Replaces the list (from the watch, or a read after a local register/deregister). */
  update(list: ServiceInstance[]): void {
    const changed = !this.#synced || !sameInstances(this.#all, list);
    this.#all = list;
    this.#healthy = list.filter((instance) => instance.healthy);
    if (!this.#synced) {
      this.#synced = true;
      this.#resolveReady();
    }
    if (!changed) return;
    for (const listener of this.#listeners) {
      // A throwing listener must not break the watch (or, inside a client library's callback, the process).
      try {
        listener.fn(listener.healthyOnly ? this.#healthy : this.#all);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  subscribe(fn: InstancesListener, healthyOnly: boolean): () => void {
    const entry = { fn, healthyOnly };
    this.#listeners.add(entry);
    if (this.#synced) fn(healthyOnly ? this.#healthy : this.#all);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  close(): void {
    this.#stop();
    this.#listeners.clear();
  }
}

function sameInstances(a: ServiceInstance[], b: ServiceInstance[]): boolean {
  if (a.length !== b.length) return false;
  const key = (i: ServiceInstance) =>
    `${i.id}|${i.address}|${i.port}|${i.weight}|${i.healthy}|${i.tags.join(',')}|${JSON.stringify(i.meta)}`;
  const seen = new Set(a.map(key));
  return b.every((instance) => seen.has(key(instance)));
}
