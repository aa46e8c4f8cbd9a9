import type { InstanceRecord, ServiceInstance } from '../instance.js';
import { createRefreshingWatch, type RefreshingWatch, type Snapshot } from '../internal/refreshing-watch.js';
import type { KeyValueStore, RegistryBackend, WatchHandlers } from '../registry-backend.js';

export interface MemoryRegistryOptions {
  /** Safety-net re-read interval of watches. Default 5 000. */
  pollIntervalMs?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

interface Entry {
  instance: InstanceRecord['instance'];
  /** Healthy until then; Infinity without a check. */
  expiresAt: number;
  /** Removed when still unhealthy then. */
  reapAt: number;
}

/**
 * The in-process registry: a full implementation (TTLs, health, watches, KV) for tests, a single
 * process, or several registries in one process sharing this backend object.
 */
export function memoryRegistry(options: MemoryRegistryOptions = {}): RegistryBackend {
  const { pollIntervalMs = 5_000, now = Date.now } = options;
  const services = new Map<string, Map<string, Entry>>();
  const watchers = new Map<string, Set<RefreshingWatch>>();
  const values = new Map<string, string>();

  const announce = (service: string) => {
    for (const watch of watchers.get(service) ?? []) watch.trigger();
  };

  const snapshot = (service: string): Snapshot => {
    const at = now();
    const entries = services.get(service);
    const instances: ServiceInstance[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [id, entry] of entries ?? []) {
      if (entry.reapAt <= at) {
        entries!.delete(id);
        continue;
      }
      const healthy = entry.expiresAt > at;
      instances.push({ ...entry.instance, healthy });
      next = Math.min(next, healthy ? entry.expiresAt : entry.reapAt);
    }
    return { instances, nextChangeInMs: Number.isFinite(next) ? next - at : undefined };
  };

  const kv: KeyValueStore = {
    get: async (key) => values.get(key),
    set: async (key, value) => void values.set(key, value),
    delete: async (key) => void values.delete(key),
    list: async (prefix) => Object.fromEntries([...values].filter(([key]) => key.startsWith(prefix))),
  };

  return {
    name: 'memory',
    runsHttpChecks: false,
    async register({ instance, check }) {
      let entries = services.get(instance.name);
      if (!entries) services.set(instance.name, (entries = new Map()));
      const at = now();
      const ttlMs = check ? (check.kind === 'ttl' ? check.ttlMs : check.intervalMs * 1.5) : Infinity;
      entries.set(instance.id, {
        instance: structuredClone(instance),
        expiresAt: at + ttlMs,
        reapAt: at + ttlMs + (check?.deregisterAfterMs ?? Infinity),
      });
      announce(instance.name);
    },
    async deregister(service, id) {
      if (services.get(service)?.delete(id)) announce(service);
    },
    async pass(service, id, ttlMs) {
      const entry = services.get(service)?.get(id);
      if (!entry) return false;
      const at = now();
      const wasHealthy = entry.expiresAt > at;
      const grace = entry.reapAt - entry.expiresAt;
      entry.expiresAt = at + ttlMs;
      entry.reapAt = entry.expiresAt + grace;
      if (!wasHealthy) announce(service);
      return true;
    },
    async fail(service, id) {
      const entry = services.get(service)?.get(id);
      if (!entry) return;
      const at = now();
      if (entry.expiresAt <= at) return;
      const grace = entry.reapAt - entry.expiresAt;
      entry.expiresAt = at;
      entry.reapAt = at + grace;
      announce(service);
    },
    instances: async (service) => snapshot(service).instances,
    services: async () => [...services].filter(([, entries]) => entries.size > 0).map(([name]) => name),
    watch(service: string, handlers: WatchHandlers) {
      const watch = createRefreshingWatch(async () => snapshot(service), handlers, pollIntervalMs);
      let set = watchers.get(service);
      if (!set) watchers.set(service, (set = new Set()));
      set.add(watch);
      return () => {
        watch.stop();
        set.delete(watch);
      };
    },
    kv,
    async close() {
      for (const set of watchers.values()) for (const watch of set) watch.stop();
      watchers.clear();
    },
  };
}
