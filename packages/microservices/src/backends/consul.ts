import { invariant } from '@noa/core';
import Consul from 'consul';
import type { ServiceInstance } from '../instance.js';
import type { KeyValueStore, RegistryBackend } from '../registry-backend.js';

export interface ConsulRegistryOptions {
  /** Consul agent host. Default 127.0.0.1. */
  host?: string;
  /** Default 8500. */
  port?: number;
  secure?: boolean;
  /** ACL token sent with every call. */
  token?: string;
  /** Your `consul` client instance (not destroyed on close); overrides host/port. */
  client?: Consul;
  /** How long a watch's blocking query waits for a change. Default 30 000. */
  waitMs?: number;
}

interface HealthEntry {
  Node?: { Address?: string };
  Service: {
    ID: string;
    Service: string;
    Address?: string;
    Port: number;
    Tags?: string[] | null;
    Meta?: Record<string, string> | null;
    Weights?: { Passing?: number };
  };
  Checks?: { Status: string }[];
}

// Consul has no weight in the agent registration API of the consul client, so it travels in Meta.
const WEIGHT_META = 'noa-weight';
const duration = (ms: number) => `${Math.round(ms)}ms`;

function toInstance(entry: HealthEntry): ServiceInstance {
  const { Service: s } = entry;
  const meta = { ...(s.Meta ?? {}) };
  const weight = Number(meta[WEIGHT_META]) || s.Weights?.Passing || 1;
  delete meta[WEIGHT_META];
  return {
    id: s.ID,
    name: s.Service,
    address: s.Address || entry.Node?.Address || '127.0.0.1',
    port: s.Port,
    tags: s.Tags ?? [],
    meta,
    weight,
    // Node checks (serfHealth) count too, as in Consul's own `?passing`.
    healthy: (entry.Checks ?? []).every((check) => check.Status === 'passing'),
  };
}

const isUnknownCheck = (error: unknown) => {
  const e = error as { statusCode?: number; message?: string };
  return e.statusCode === 404 || /unknown check|does not exist|not found/i.test(e.message ?? '');
};

/**
 * Consul through its agent API (the `consul` npm client): the agent registers instances with HTTP or
 * TTL checks and runs the HTTP checks itself; health queries and blocking-query watches read the
 * health endpoint; configuration lives in KV.
 */
export function consulRegistry(options: ConsulRegistryOptions = {}): RegistryBackend {
  const { host = '127.0.0.1', port = 8500, secure = false, token, waitMs = 30_000 } = options;
  invariant(Number.isFinite(waitMs) && waitMs >= 1_000, 'consulRegistry: waitMs must be >= 1000');
  const owned = !options.client;
  const consul =
    options.client ?? new Consul({ host, port, secure, defaults: token ? { token } : undefined });
  const watches = new Set<{ end(): void }>();

  const kv: KeyValueStore = {
    async get(key) {
      const item = (await consul.kv.get({ key })) as { Value?: string | null } | undefined;
      return item?.Value ?? (item ? '' : undefined);
    },
    set: async (key, value) => void (await consul.kv.set({ key, value })),
    delete: async (key) => void (await consul.kv.del({ key })),
    async list(prefix) {
      const items = ((await consul.kv.get({ key: prefix, recurse: true })) ?? []) as {
        Key: string;
        Value?: string | null;
      }[];
      return Object.fromEntries(items.map((item) => [item.Key, item.Value ?? '']));
    },
  };

  return {
    name: 'consul',
    runsHttpChecks: true,
    async register({ instance, check }) {
      const common = check
        ? { deregistercriticalserviceafter: duration(check.deregisterAfterMs), status: 'passing' }
        : {};
      await consul.agent.service.register({
        name: instance.name,
        id: instance.id,
        address: instance.address,
        port: instance.port,
        tags: instance.tags,
        meta: { ...instance.meta, [WEIGHT_META]: String(instance.weight) },
        check: !check
          ? undefined
          : check.kind === 'http'
            ? {
                http: check.url,
                interval: duration(check.intervalMs),
                timeout: duration(check.timeoutMs),
                ...common,
              }
            : { ttl: duration(check.ttlMs), ...common },
      } as never);
    },
    async deregister(_service, id) {
      try {
        await consul.agent.service.deregister(id);
      } catch (error) {
        // Already gone (reaped after deregisterAfterMs): that is what we wanted.
        if ((error as { statusCode?: number }).statusCode !== 404) throw error;
      }
    },
    async pass(_service, id) {
      try {
        await consul.agent.check.pass({ id: `service:${id}` });
        return true;
      } catch (error) {
        if (isUnknownCheck(error)) return false;
        throw error;
      }
    },
    async fail(_service, id, reason) {
      await consul.agent.check.fail({ id: `service:${id}`, note: reason });
    },
    async instances(service) {
      const entries = (await consul.health.service({ service })) as HealthEntry[];
      return entries.map(toInstance);
    },
    async services() {
      const map = (await consul.catalog.service.list()) as Record<string, string[]>;
      return Object.keys(map)
        .filter((name) => name !== 'consul')
        .sort();
    },
    watch(service, handlers) {
      const watch = consul.watch({
        method: consul.health.service,
        options: { service, wait: duration(waitMs) },
        backoffFactor: 100,
        backoffMax: 5_000,
      } as never);
      watch.on('change', (data: HealthEntry[]) => handlers.change(data.map(toInstance)));
      watch.on('error', handlers.error);
      watches.add(watch);
      return () => {
        watches.delete(watch);
        watch.end();
      };
    },
    kv,
    async close() {
      for (const watch of watches) watch.end();
      watches.clear();
      if (owned) consul.destroy();
    },
  };
}
