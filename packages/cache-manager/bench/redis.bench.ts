/**
 * Part 2 benchmarks: the tiered cache against bentocache and cache-manager (keyv + @keyv/redis) on
 * the shared Redis (own key prefix), invalidation propagation between two instances over the bus,
 * and getOrSet latency while a benchmark-owned redis-server is killed or paused.
 */
import KeyvRedis from '@keyv/redis';
import {
  type BenchTable,
  compare,
  formatDuration,
  isReachable,
  RedisServerProcess as OwnRedisServer,
  percentile,
  renderText,
  serviceUrl,
  uniqueName,
} from '@noa/testkit';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache as createCacheManager } from 'cache-manager';
import { Redis } from 'ioredis';
import { Keyv } from 'keyv';
import { createCache, memoryTier } from '../src/index.js';
import { redisBus, redisTier } from '../src/redis.js';
import { unlinkByPrefix } from '../test/support/cleanup.js';
import type { BenchSettings } from './memory.bench.js';

const value = { id: 1, name: 'Ada Lovelace', roles: ['admin', 'author'], bio: 'x'.repeat(200) };

export async function redisBenchmarks(settings: BenchSettings): Promise<BenchTable[]> {
  const url = serviceUrl('redis');
  if (!(await isReachable(url))) {
    console.log(`\nskipping the Redis benchmarks: Redis is unreachable at ${url} (scripts/services/up.sh)`);
    return [];
  }
  const prefix = `${uniqueName('cache_bench')}:`;
  const admin = new Redis(url);
  try {
    return [
      ...(await tieredVsPeers(url, prefix, settings)),
      await propagationLatency(url, prefix, settings),
      await outageLatency(settings),
    ];
  } finally {
    await unlinkByPrefix(admin, prefix);
    admin.disconnect();
  }
}

async function tieredVsPeers(url: string, prefix: string, { timeMs, rounds }: BenchSettings) {
  const clients = [new Redis(url), new Redis(url), new Redis(url)];
  const keys = Array.from({ length: 1_000 }, (_, i) => `user:${i}`);
  const loader = () => value;
  // Tiered, with a memory tier big enough to hold every key: reads are memory hits.
  const ours = createCache({
    namespace: 'bench',
    tiers: [memoryTier({ maxEntries: 10_000 }), redisTier({ client: clients[0]!, keyPrefix: prefix })],
  });
  // The same data through a one-entry memory tier: every read of the 1 000-key cycle is a Redis hit.
  const oursRemote = createCache({
    namespace: 'bench',
    tiers: [
      memoryTier({ maxEntries: 1, policy: 'lru' }),
      redisTier({ client: clients[1]!, keyPrefix: prefix }),
    ],
  });
  const bento = new BentoCache({
    default: 'tiered',
    prefix: `${prefix}bento`,
    stores: {
      tiered: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000 }))
        .useL2Layer(redisDriver({ connection: clients[2]! })),
      remote: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 1 }))
        .useL2Layer(redisDriver({ connection: clients[2]! })),
    },
  });
  const bentoRemote = bento.use('remote');
  const managerRedis = new Keyv({ store: new KeyvRedis(url), namespace: `${prefix}cm` });
  const manager = createCacheManager({ stores: [new Keyv(), managerRedis] });
  const managerRemote = createCacheManager({ stores: [managerRedis] });
  for (const key of keys) {
    await ours.set(key, value, { ttlMs: 3_600_000 });
    await bento.set({ key, value, ttl: '1h' });
    await bentoRemote.set({ key, value, ttl: '1h' });
    await manager.set(key, value, 3_600_000);
  }
  let i = 0;
  const next = () => keys[i++ % keys.length]!;
  const memoryHit = await compare(
    'Tiered (memory + Redis) cache.get, memory hit: @noa/cache-manager vs bentocache vs cache-manager v7 (keyv + @keyv/redis)',
    {
      '@noa/cache-manager': () => ours.get(next()),
      bentocache: () => bento.get({ key: next() }),
      'cache-manager': () => manager.get(next()),
    },
    { id: 'cache-tiered-get', timeMs, rounds },
  );
  const peers = {
    '@noa/cache-manager': () => oursRemote.getOrSet(next(), loader, { ttlMs: 3_600_000 }),
    bentocache: () => bentoRemote.getOrSet({ key: next(), factory: loader, ttl: '1h' }),
    'cache-manager': () => managerRemote.wrap(next(), loader, 3_600_000),
  };
  const fairness = [
    'same 250-byte JSON value and 1 h TTL everywhere, no tags (a tagged entry costs ours one more Redis round trip, for its tag versions)',
    'ours and bentocache: a memory tier of 1 entry that always misses, then Redis through ioredis with default options; both copy the Redis hit into memory',
    'cache-manager v7: its Redis store only (@keyv/redis, node-redis), so it skips that memory write; with a 1-entry Keyv memory store in front it ran 3–20× slower in a trial, not representative',
    'ours sends the reads of one tick as one MGET; node-redis pipelines the commands of one tick on its own',
  ];
  const remoteHit = await compare(
    'Tiered getOrSet with a Redis hit (memory misses, 8 in flight): @noa/cache-manager vs bentocache vs cache-manager v7 wrap',
    peers,
    { id: 'cache-tiered-redis-hit', timeMs, rounds, concurrency: 8, notes: fairness },
  );
  const remoteHitSerial = await compare(
    'Tiered getOrSet with a Redis hit, one call at a time (nothing to batch): @noa/cache-manager vs bentocache vs cache-manager v7 wrap',
    peers,
    { id: 'cache-tiered-redis-hit-serial', timeMs, rounds, concurrency: 1, notes: fairness },
  );
  await ours.close();
  await oursRemote.close();
  await bento.disconnectAll();
  await manager.disconnect();
  for (const client of clients) client.disconnect();
  return [memoryHit.table, remoteHit.table, remoteHitSerial.table];
}

async function propagationLatency(
  url: string,
  prefix: string,
  { quick }: BenchSettings,
): Promise<BenchTable> {
  const namespace = uniqueName('bench_bus');
  const connections: Redis[] = [];
  const make = () => {
    const client = new Redis(url);
    const subscriber = new Redis(url);
    connections.push(client, subscriber);
    return createCache({
      namespace,
      tiers: [memoryTier(), redisTier({ client, keyPrefix: prefix })],
      bus: redisBus({ publisher: client, subscriber }),
    });
  };
  const [a, b] = [make(), make()];
  await new Promise((resolve) => setTimeout(resolve, 200));
  const samples: number[] = [];
  const runs = quick ? 200 : 1_000;
  for (let n = 0; n < runs; n++) {
    const key = `k${n % 50}`;
    const received = new Promise<void>((resolve) => {
      const listener = (message: { type: string; keys?: string[] }) => {
        if (message.keys?.includes(key)) {
          b.off('invalidate', listener);
          resolve();
        }
      };
      b.on('invalidate', listener);
    });
    const started = process.hrtime.bigint();
    void a.set(key, n);
    await received;
    samples.push(Number(process.hrtime.bigint() - started));
  }
  await a.close();
  await b.close();
  for (const c of connections) c.disconnect();
  samples.sort((x, y) => x - y);
  const table: BenchTable = {
    id: 'cache-bus-propagation',
    title:
      'Invalidation propagation: set() on instance A until instance B has dropped its memory copy (redisBus)',
    columns: ['messages', 'p50', 'p99', 'max'],
    rows: [
      [
        runs,
        formatDuration(percentile(samples, 50)),
        formatDuration(percentile(samples, 99)),
        formatDuration(samples.at(-1)!),
      ],
    ],
    notes: [
      'two instances in one process, each with its own Redis connections; includes the write to Redis before the publish',
    ],
  };
  console.log(renderText(table));
  return table;
}

async function outageLatency({ quick }: BenchSettings): Promise<BenchTable> {
  const server = await OwnRedisServer.start();
  const timeoutMs = 100;
  const client = new Redis(server.url);
  const subscriber = new Redis(server.url);
  client.on('error', () => {});
  subscriber.on('error', () => {});
  const cache = createCache({
    namespace: 'outage',
    tiers: [memoryTier({ maxEntries: 100_000 }), redisTier({ client, timeoutMs })],
    bus: redisBus({ publisher: client, subscriber, timeoutMs }),
  });
  const calls = quick ? 300 : 2_000;
  const rows: (string | number)[][] = [];
  // Each round: a tagged set (tag versions read, Redis write, bus publish), a getOrSet miss that
  // runs the loader, and a delete (Redis UNLINK, bus publish), each timed on its own.
  const operations = {
    'set (1 tag)': (n: number, scenario: string) => cache.set(`${scenario}:w${n}`, value, { tags: ['t'] }),
    'getOrSet (miss)': (n: number, scenario: string) => cache.getOrSet(`${scenario}:${n}`, () => value),
    delete: (n: number, scenario: string) => cache.delete(`${scenario}:w${n}`),
  };
  const measure = async (scenario: string) => {
    const samples = Object.fromEntries(Object.keys(operations).map((name) => [name, [] as number[]]));
    const errors = Object.fromEntries(Object.keys(operations).map((name) => [name, 0]));
    for (let n = 0; n < calls; n++) {
      for (const [name, run] of Object.entries(operations)) {
        const started = process.hrtime.bigint();
        try {
          await run(n, scenario);
        } catch {
          errors[name]!++;
        }
        samples[name]!.push(Number(process.hrtime.bigint() - started));
      }
    }
    for (const [name, durations] of Object.entries(samples)) {
      durations.sort((x, y) => x - y);
      rows.push([
        scenario,
        name,
        calls,
        errors[name]!,
        formatDuration(percentile(durations, 50)),
        formatDuration(percentile(durations, 99)),
        formatDuration(durations.at(-1)!),
        `${timeoutMs} ms`,
        String(cache.stats().tiers[1]!.circuit),
      ]);
    }
  };
  await measure('Redis up');
  server.pause();
  await measure('Redis paused (SIGSTOP)');
  await server.stop();
  await measure('Redis killed');
  await cache.close();
  client.disconnect();
  subscriber.disconnect();
  const table: BenchTable = {
    id: 'cache-outage',
    title: 'Cache calls while Redis is unavailable: each bounded by the timeout as a whole',
    columns: [
      'scenario',
      'call',
      'calls',
      'errors surfaced',
      'p50',
      'p99',
      'max',
      'timeoutMs',
      'circuit at end',
    ],
    rows,
    notes: [
      'memory + redisTier + redisBus on a benchmark-owned redis-server; circuit breaker: 3 failures open it, 1 s before a trial call',
      'the first calls of an outage wait up to timeoutMs until the breaker opens; after that Redis is skipped. A call that needs several Redis steps (tag versions, write, publish) shares one deadline; unfinished writes go on in the background',
    ],
  };
  console.log(renderText(table));
  return table;
}
