import { invariant } from '@noa/core';
import { Redis, type RedisOptions } from 'ioredis';
import type { ServiceInstance } from '../instance.js';
import { redisScript } from '../internal/redis-script.js';
import { createRefreshingWatch, type RefreshingWatch } from '../internal/refreshing-watch.js';
import type { KeyValueStore, RegistryBackend } from '../registry-backend.js';

export interface RedisRegistryOptions {
  /** Your ioredis client (not closed by the registry); or give `connection`. */
  client?: Redis;
  /** A URL or ioredis options; the registry then owns and closes the client. */
  connection?: string | RedisOptions;
  /** Key prefix. Default `noa:registry`. */
  prefix?: string;
  /** Safety-net re-read interval of watches (pub/sub announces changes). Default 5 000. */
  pollIntervalMs?: number;
}

// Server time in ms, so processes with skewed clocks agree on expiry.
const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// KEYS: instances hash, expiry zset, reap zset. ARGV: id, json, ttlMs (-1 = no check), reapAfterMs (-1 = never), channel
const REGISTER = redisScript(`${NOW}
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local ttl = tonumber(ARGV[3])
local reap = tonumber(ARGV[4])
if ttl < 0 then
  redis.call('ZADD', KEYS[2], 'inf', ARGV[1])
  redis.call('ZADD', KEYS[3], 'inf', ARGV[1])
else
  redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
  if reap < 0 then redis.call('ZADD', KEYS[3], 'inf', ARGV[1]) else redis.call('ZADD', KEYS[3], now + ttl + reap, ARGV[1]) end
end
redis.call('PUBLISH', ARGV[5], 'register')
return 1`);

// ARGV: id, ttlMs (>= 0 marks healthy for ttl, -1 marks unhealthy now), channel. Returns 0 when unknown.
const SET_HEALTH = redisScript(`${NOW}
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local exp = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[1]) or now)
local reap = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[1]) or now)
local grace = reap - exp
local ttl = tonumber(ARGV[2])
if ttl < 0 then
  if exp <= now then return 1 end
  redis.call('ZADD', KEYS[2], now, ARGV[1])
  redis.call('ZADD', KEYS[3], now + grace, ARGV[1])
  redis.call('PUBLISH', ARGV[3], 'fail')
  return 1
end
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('ZADD', KEYS[3], now + ttl + grace, ARGV[1])
if exp <= now then redis.call('PUBLISH', ARGV[3], 'pass') end
return 1`);

// ARGV: id, channel
const DEREGISTER = redisScript(`
local n = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if n > 0 then redis.call('PUBLISH', ARGV[2], 'deregister') end
return redis.call('HLEN', KEYS[1])`);

// ARGV: channel. Reaps long-dead instances, returns { now, hgetall, zrange withscores }.
const LIST = redisScript(`${NOW}
local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, id in ipairs(dead) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
end
if #dead > 0 then redis.call('PUBLISH', ARGV[1], 'reap') end
return { tostring(now), redis.call('HGETALL', KEYS[1]), redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES') }`);

const score = (value: string) => (value === 'inf' ? Number.POSITIVE_INFINITY : Number(value));
const globEscape = (value: string) => value.replace(/[*?[\]\\]/g, '\\$&');

/**
 * The Redis registry: instances in a hash per service, health as expiry times in a sorted set
 * (Redis server time, updated by TTL heartbeats), changes announced on a pub/sub channel. Every
 * change is one Lua script, and a service's keys share a hash tag, so each script touches one Cluster slot.
 */
export function redisRegistry(options: RedisRegistryOptions): RegistryBackend {
  const { prefix = 'noa:registry', pollIntervalMs = 5_000 } = options;
  invariant(
    options.client || options.connection,
    'redisRegistry: pass { client } (an ioredis client) or { connection } (a URL or ioredis options)',
  );
  invariant(
    typeof prefix === 'string' && prefix.length > 0,
    'redisRegistry: prefix must be a non-empty string',
  );
  const owned = !options.client;
  const client =
    options.client ??
    (typeof options.connection === 'string'
      ? new Redis(options.connection, { lazyConnect: false })
      : new Redis(options.connection as RedisOptions));
  const keys = (service: string) => {
    const base = `${prefix}:{${service}}`;
    return {
      list: [`${base}:instances`, `${base}:expiry`, `${base}:reap`],
      channel: `${base}:changes`,
    };
  };
  const servicesKey = `${prefix}:services`;
  const kvKey = (key: string) => `${prefix}:kv:${key}`;

  let subscriber: Redis | undefined;
  const watchersByChannel = new Map<string, Set<RefreshingWatch>>();
  const subscriberFor = () => {
    if (subscriber) return subscriber;
    const sub = client.duplicate();
    sub.on('message', (channel: string) => {
      for (const watch of watchersByChannel.get(channel) ?? []) watch.trigger();
    });
    // After a reconnect, announcements may have been missed: read everything again.
    sub.on('ready', () => {
      for (const set of watchersByChannel.values()) for (const watch of set) watch.trigger();
    });
    sub.on('error', () => {}); // reported through the watches' reads; ioredis reconnects on its own
    subscriber = sub;
    return sub;
  };

  const read = async (service: string) => {
    const k = keys(service);
    const [nowText, flat, scores] = (await LIST.run(client, k.list, [k.channel])) as [
      string,
      string[],
      string[],
    ];
    const now = Number(nowText);
    const expiry = new Map<string, number>();
    for (let i = 0; i < scores.length; i += 2) expiry.set(scores[i]!, score(scores[i + 1]!));
    const instances: ServiceInstance[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (let i = 0; i < flat.length; i += 2) {
      const expiresAt = expiry.get(flat[i]!) ?? 0;
      const healthy = expiresAt > now;
      if (healthy) next = Math.min(next, expiresAt);
      instances.push({ ...(JSON.parse(flat[i + 1]!) as Omit<ServiceInstance, 'healthy'>), healthy });
    }
    return { instances, nextChangeInMs: Number.isFinite(next) ? next - now : undefined };
  };

  const kv: KeyValueStore = {
    get: async (key) => (await client.get(kvKey(key))) ?? undefined,
    set: async (key, value) => void (await client.set(kvKey(key), value)),
    delete: async (key) => void (await client.del(kvKey(key))),
    async list(keyPrefix) {
      const out: Record<string, string> = {};
      let cursor = '0';
      do {
        const [nextCursor, found] = await client.scan(
          cursor,
          'MATCH',
          `${globEscape(kvKey(keyPrefix))}*`,
          'COUNT',
          500,
        );
        cursor = nextCursor;
        if (found.length === 0) continue;
        const values = await client.mget(...found);
        found.forEach((key, i) => {
          if (values[i] != null) out[key.slice(kvKey('').length)] = values[i]!;
        });
      } while (cursor !== '0');
      return out;
    },
  };

  return {
    name: 'redis',
    runsHttpChecks: false,
    async register({ instance, check }) {
      const k = keys(instance.name);
      const ttl = check ? (check.kind === 'ttl' ? check.ttlMs : Math.round(check.intervalMs * 1.5)) : -1;
      await REGISTER.run(client, k.list, [
        instance.id,
        JSON.stringify(instance),
        ttl,
        check ? check.deregisterAfterMs : -1,
        k.channel,
      ]);
      await client.sadd(servicesKey, instance.name);
    },
    async deregister(service, id) {
      const k = keys(service);
      const left = (await DEREGISTER.run(client, k.list, [id, k.channel])) as number;
      if (left === 0) await client.srem(servicesKey, service);
    },
    async pass(service, id, ttlMs) {
      const k = keys(service);
      return (await SET_HEALTH.run(client, k.list, [id, Math.round(ttlMs), k.channel])) === 1;
    },
    async fail(service, id) {
      const k = keys(service);
      await SET_HEALTH.run(client, k.list, [id, -1, k.channel]);
    },
    instances: async (service) => (await read(service)).instances,
    async services() {
      const names = await client.smembers(servicesKey);
      const sizes = await Promise.all(names.map((name) => client.hlen(keys(name).list[0]!)));
      return names.filter((_, i) => sizes[i]! > 0).sort();
    },
    watch(service, handlers) {
      const { channel } = keys(service);
      const watch = createRefreshingWatch(() => read(service), handlers, pollIntervalMs);
      let set = watchersByChannel.get(channel);
      if (!set) {
        watchersByChannel.set(channel, (set = new Set()));
        subscriberFor().subscribe(channel).catch(handlers.error);
      }
      set.add(watch);
      return () => {
        watch.stop();
        set.delete(watch);
        if (set.size === 0) {
          watchersByChannel.delete(channel);
          subscriber?.unsubscribe(channel).catch(() => {});
        }
      };
    },
    kv,
    async close() {
      for (const set of watchersByChannel.values()) for (const watch of set) watch.stop();
      watchersByChannel.clear();
      if (subscriber) await subscriber.quit().catch(() => subscriber?.disconnect());
      if (owned) await client.quit().catch(() => client.disconnect());
    },
  };
}
