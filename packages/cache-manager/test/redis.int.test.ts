import { createMemoryMetrics } from '@noa/core';
import { msgpackSerializer } from '@noa/core/msgpack';
import { requireService, uniqueName, waitUntil } from '@noa/testkit';
import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cache, type CacheEvents, createCache, memoryTier } from '../src/index.js';
import { redisBus, redisTier } from '../src/redis.js';
import { testContext, tierContract } from './contract.js';
import { unlinkByPrefix } from './support/cleanup.js';
import { clusterNodes, requireRedisCluster } from './support/cluster.js';

const redis = await requireService('redis');
const cluster = await requireRedisCluster();
const clients: Array<Redis | Cluster> = [];
const prefix = `${uniqueName('cache_redis')}:`;
const connect = () => {
  const client = new Redis(redis.url);
  clients.push(client);
  return client;
};
const connectCluster = () => {
  const client = new Cluster(clusterNodes(cluster.nodes));
  clients.push(client);
  return client;
};

/**
 * The contract times expiries: a command that waits in ioredis' offline queue while the client
 * connects reaches Redis late, and its relative PX expiry ends late with it.
 */
const connected = async <C extends Redis | Cluster>(client: C): Promise<C> => {
  await waitUntil(() => client.status === 'ready', { timeoutMs: 10_000, message: 'Redis client ready' });
  return client;
};

afterAll(async () => {
  // Only this file's keys: SCAN our prefix, never FLUSH a shared server.
  if (redis.available) {
    await unlinkByPrefix(connect(), prefix);
  }
  for (const client of clients) client.disconnect();
});

describe.skipIf(!redis.available)('redisTier on a single Redis node', () => {
  tierContract('redisTier (single node)', async (namespace) => {
    const tier = redisTier({ client: await connected(connect()), keyPrefix: prefix });
    tier.attach(testContext(namespace));
    return { tier, cleanup: async () => void (await tier.clear()) };
  });

  const tiered = (namespace = uniqueName('tiered'), extra: Partial<Parameters<typeof redisTier>[0]> = {}) => {
    const client = connect();
    const memory = memoryTier({ maxEntries: 100 });
    const remote = redisTier({ client, keyPrefix: prefix, ...extra });
    return { cache: createCache({ namespace, tiers: [memory, remote] }), client, memory, remote, namespace };
  };

  it('reads through: a Redis hit back-fills memory with the remaining TTL', async () => {
    const { namespace } = tiered();
    const writer = tiered(namespace).cache;
    await writer.set('user:1', { name: 'Ada' }, { ttlMs: 600 });
    const reader = tiered(namespace);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await reader.cache.get('user:1')).toEqual({ name: 'Ada' });
    expect(reader.memory.size).toBe(1);
    expect(reader.cache.stats().tiers.map((t) => [t.name, t.hits])).toEqual([
      ['memory', 0],
      ['redis', 1],
    ]);
    expect(await reader.cache.get('user:1')).toEqual({ name: 'Ada' });
    expect(reader.cache.stats().tiers[0]!.hits).toBe(1);
    // The back-filled copy expires with the original, not a full TTL later.
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(await reader.cache.get('user:1')).toBeUndefined();
  });

  it('writes through, and delete, clear and tags reach every tier', async () => {
    const { cache, client, memory, namespace } = tiered();
    await cache.set('a', 1, { tags: ['t1'] });
    await cache.set('b', 2);
    await cache.set('c', 3, { tags: ['t1', 't2'] });
    expect(await client.exists(`${prefix}${namespace}:k:a`)).toBe(1);
    await cache.delete('b');
    expect(await client.exists(`${prefix}${namespace}:k:b`)).toBe(0);
    await cache.invalidateTags(['t1']);
    const fresh = tiered(namespace).cache; // a second instance sees the invalidation through Redis
    expect(await fresh.get('a')).toBeUndefined();
    expect(await fresh.get('c')).toBeUndefined();
    expect(await cache.get('a')).toBeUndefined();
    await cache.set('d', 4);
    await cache.clear();
    expect(memory.size).toBe(0);
    expect(await client.exists(`${prefix}${namespace}:k:d`)).toBe(0);
    expect(await fresh.get('d')).toBeUndefined();
  });

  it('stores through core serializers and compresses above the threshold', async () => {
    const big = {
      rows: Array.from({ length: 500 }, (_, i) => ({ id: i, name: `row ${i}`, at: new Date(0) })),
    };
    const json = tiered(undefined, { compression: false });
    const packed = tiered(undefined, {
      serializer: msgpackSerializer(),
      compression: { algorithm: 'brotli', thresholdBytes: 256 },
    });
    await json.cache.set('big', big);
    await packed.cache.set('big', big);
    const jsonBytes = (await json.client.getBuffer(`${prefix}${json.namespace}:k:big`))!.length;
    const packedBytes = (await packed.client.getBuffer(`${prefix}${packed.namespace}:k:big`))!.length;
    expect(packedBytes).toBeLessThan(jsonBytes / 4);
    const other = tiered(packed.namespace, {
      serializer: msgpackSerializer(),
      compression: { algorithm: 'brotli', thresholdBytes: 256 },
    });
    const read = (await other.cache.get<typeof big>('big'))!;
    expect(read.rows).toHaveLength(500);
    expect(read.rows[7]!.at).toBeInstanceOf(Date); // msgpack keeps Dates
  });

  it('propagates set, delete, clear and tag invalidation between instances over the bus', async () => {
    const namespace = uniqueName('bus');
    const make = () => {
      const client = connect();
      return createCache({
        namespace,
        tiers: [memoryTier(), redisTier({ client, keyPrefix: prefix })],
        bus: redisBus({ publisher: client, subscriber: connect() }),
      });
    };
    const [a, b] = [make(), make()];
    await new Promise((resolve) => setTimeout(resolve, 100));
    await a.set('k', 'v1', { tags: ['t'] });
    expect(await b.get('k')).toBe('v1'); // now in b's memory
    await a.set('k', 'v2', { tags: ['t'] });
    await waitUntil(async () => (await b.get('k')) === 'v2');
    await a.delete('k');
    await waitUntil(async () => (await b.get('k')) === undefined);
    await a.set('k', 'v3', { tags: ['t'] });
    expect(await b.get('k')).toBe('v3');
    await a.invalidateTags(['t']);
    await waitUntil(async () => (await b.get('k')) === undefined);
    await a.set('k', 'v4');
    expect(await b.get('k')).toBe('v4');
    await a.clear();
    await waitUntil(async () => (await b.get('k')) === undefined);
    await a.close();
    await b.close();
  });

  it('an instance whose subscription dropped (Redis itself up) clears its memory copies on resubscribing', async () => {
    const namespace = uniqueName('resync');
    const a = createCache({
      namespace,
      tiers: [memoryTier(), redisTier({ client: connect(), keyPrefix: prefix })],
      bus: redisBus({ publisher: connect(), subscriber: connect() }),
    });
    // b's subscriber reconnects after 300 ms: long enough for a's message to go out while it is away.
    const name = uniqueName('resync_sub');
    const bSubscriber = new Redis(redis.url, { retryStrategy: () => 300, connectionName: name });
    clients.push(bSubscriber);
    const bClient = connect();
    const b = createCache({
      namespace,
      tiers: [memoryTier(), redisTier({ client: bClient, keyPrefix: prefix })],
      bus: redisBus({ publisher: bClient, subscriber: bSubscriber }),
    });
    await connected(bSubscriber);
    await a.set('price', 100);
    expect(await b.get('price')).toBe(100); // now in b's memory
    // A subscribed connection takes no CLIENT commands: find it by name from another one.
    const admin = connect();
    const list = (await admin.call('CLIENT', 'LIST')) as string;
    const id = /(?:^|\n)id=(\d+) [^\n]* name=(\S+)/g;
    const ids = [...list.matchAll(id)].filter((m) => m[2] === name).map((m) => m[1]!);
    expect(ids).toHaveLength(1);
    await admin.call('CLIENT', 'KILL', 'ID', ids[0]!);
    await a.set('price', 120); // published while b is not subscribed: b never hears of it
    expect(bSubscriber.status).not.toBe('ready');
    await waitUntil(async () => bSubscriber.status === 'ready', { timeoutMs: 5_000 });
    // Nothing on the bus told b about 120; only the resync on resubscribing drops its copy of 100.
    await waitUntil(async () => (await b.get('price')) === 120, {
      timeoutMs: 5_000,
      message: 'b drops what it cached before its subscription dropped',
    });
    await a.close();
    await b.close();
  });

  it('reports circuit state and hit rates as metrics', async () => {
    const metrics = createMemoryMetrics();
    const namespace = uniqueName('metrics');
    const cache = createCache({
      namespace,
      tiers: [memoryTier(), redisTier({ client: connect(), keyPrefix: prefix })],
      metrics,
    });
    await cache.getOrSet('k', () => 1);
    await cache.get('k');
    expect(metrics.value('cache_tier_circuit_state', { namespace, tier: 'redis' })).toBe(0);
    expect(metrics.value('cache_misses_total', { namespace, tier: 'redis' })).toBe(1);
    expect(metrics.value('cache_hits_total', { namespace, tier: 'memory' })).toBe(1);
    expect(cache.stats().tiers[1]).toMatchObject({ name: 'redis', circuit: 'closed' });
  });

  it("runs one loader across instances with lock: 'distributed'", async () => {
    const namespace = uniqueName('lock');
    // Connected clients and a 2 s timeout: a lease request that times out (a client still
    // connecting, a loaded machine) makes its caller load by itself, by design.
    const clients = await Promise.all(Array.from({ length: 4 }, () => connected(connect())));
    const caches: Cache[] = clients.map((client) =>
      createCache({
        namespace,
        tiers: [memoryTier(), redisTier({ client, keyPrefix: prefix, timeoutMs: 2_000 })],
        lock: 'distributed',
      }),
    );
    let loads = 0;
    const values = await Promise.all(
      caches.flatMap((cache) =>
        Array.from({ length: 5 }, () =>
          cache.getOrSet('report', async () => {
            loads++;
            await new Promise((resolve) => setTimeout(resolve, 100));
            return 'built once';
          }),
        ),
      ),
    );
    expect(new Set(values)).toEqual(new Set(['built once']));
    expect(loads).toBe(1);
  });

  it('turns a corrupt Redis value into a miss and an error event', async () => {
    const { cache, client, namespace } = tiered();
    await client.set(`${prefix}${namespace}:k:broken`, 'not an envelope');
    const errors: CacheEvents['error'][0][] = [];
    cache.on('error', (event) => errors.push(event));
    expect(await cache.getOrSet('broken', () => 'reloaded')).toBe('reloaded');
    expect(errors[0]).toMatchObject({ operation: 'get', tier: 'redis' });
    await expect(tiered(namespace).cache.get('broken')).resolves.toBe('reloaded');
  });
});

describe.skipIf(!cluster.available)('redisTier on a Redis Cluster (3 masters)', () => {
  tierContract('redisTier (Cluster)', async (namespace) => {
    const tier = redisTier({
      client: await connected(connectCluster()),
      keyPrefix: prefix,
      timeoutMs: 2_000,
    });
    tier.attach(testContext(namespace));
    return { tier, cleanup: async () => void (await tier.clear()) };
  });

  it('spreads keys over the masters and invalidates across instances over the bus', async () => {
    const namespace = uniqueName('cluster_bus');
    const make = () => {
      const client = connectCluster();
      return createCache({
        namespace,
        tiers: [memoryTier(), redisTier({ client, keyPrefix: prefix, timeoutMs: 2_000 })],
        bus: redisBus({ publisher: client, subscriber: connectCluster(), timeoutMs: 2_000 }),
        lock: 'distributed',
      });
    };
    const [a, b] = [make(), make()];
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (let i = 0; i < 30; i++) await a.set(`k${i}`, i, { tags: ['all'] });
    const masters = await connected(connectCluster());
    const counts = await Promise.all(
      masters.nodes('master').map(async (node) => {
        const [, keys] = await node.scan('0', 'MATCH', `${prefix}${namespace}:k:*`, 'COUNT', 1000);
        return keys.length;
      }),
    );
    expect(counts.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    expect(await b.get('k3')).toBe(3);
    await a.set('k3', 'changed');
    await waitUntil(async () => (await b.get('k3')) === 'changed');
    await a.invalidateTags(['all']);
    await waitUntil(async () => (await b.get('k4')) === undefined);
    await a.delete('k3');
    await waitUntil(async () => (await b.get('k3')) === undefined);
    let loads = 0;
    const results = await Promise.all(
      [a, b, a, b].map((cache) =>
        cache.getOrSet('once', async () => {
          loads++;
          await new Promise((resolve) => setTimeout(resolve, 50));
          return 'x';
        }),
      ),
    );
    expect(results).toEqual(['x', 'x', 'x', 'x']);
    expect(loads).toBe(1);
    await a.clear();
    await waitUntil(async () => (await b.get('k5')) === undefined);
    await a.close();
    await b.close();
  });
});
