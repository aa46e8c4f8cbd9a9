/**
 * Part 1 benchmarks: hit rates of every policy on synthetic traces (with lru-cache and Belady's
 * optimal), MemoryCache speed against lru-cache, and the cache API's hit path against bentocache
 * and cache-manager, all in memory.
 */
import { type BenchTable, compare, renderText } from '@noa/testkit';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { createCache as createCacheManager } from 'cache-manager';
import { LRUCache } from 'lru-cache';
import { createCache, type EvictionPolicyName, MemoryCache, memoryTier } from '../src/index.js';
import { CaffeineWTinyLfu } from './caffeine-port.js';
import {
  beladyHits,
  bestFixedSetHits,
  loopTrace,
  recencyTrace,
  replay,
  scanPollutedTrace,
  zipfTrace,
} from './traces.js';

export interface BenchSettings {
  quick: boolean;
  timeMs: number;
  rounds: number;
}

const POLICIES: EvictionPolicyName[] = ['lru', 'lfu', 'fifo', 'ttl', 'adaptive'];
const pct = (hits: number, total: number) => Number(((100 * hits) / total).toFixed(1));

export function hitRateTable({ quick }: BenchSettings): BenchTable {
  const capacity = 1_000;
  const keys = 20_000;
  const length = quick ? 100_000 : 400_000;
  const traces: Record<string, string[]> = {
    'zipf s=0.6': zipfTrace(keys, 0.6, length, 1),
    'zipf s=0.8': zipfTrace(keys, 0.8, length, 2),
    'zipf s=1.0': zipfTrace(keys, 1.0, length, 3),
    'zipf s=1.2': zipfTrace(keys, 1.2, length, 4),
    'zipf 0.9 + scans': scanPollutedTrace(keys, 0.9, length, 5, {
      zipfRun: 5_000,
      scanRun: 2_000,
      scanKeys: 20_000,
    }),
    'loop of 1.5× capacity': loopTrace(1_500, length),
    'recency (re-reads at distance ~500)': recencyTrace(length, 6, 500, 0.1),
  };
  const rows = Object.entries(traces).map(([name, trace]) => {
    const rates = Object.fromEntries(
      POLICIES.map((policy) => [
        policy,
        pct(replay(trace, new MemoryCache({ maxEntries: capacity, policy })), length),
      ]),
    ) as Record<EvictionPolicyName, number>;
    const peer = pct(replay(trace, new LRUCache<string, number>({ max: capacity })), length);
    const caffeine = pct(replay(trace, new CaffeineWTinyLfu(capacity)), length);
    const fixedSet = pct(bestFixedSetHits(trace, capacity), length);
    const optimal = pct(beladyHits(trace, capacity), length);
    const best = Math.max(rates.lru, rates.lfu);
    const signed = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(1)}`;
    return [
      name,
      ...POLICIES.map((policy) => `${rates[policy].toFixed(1)} %`),
      `${peer.toFixed(1)} %`,
      `${caffeine.toFixed(1)} %`,
      `${fixedSet.toFixed(1)} %`,
      `${optimal.toFixed(1)} %`,
      signed(rates.adaptive - best),
      signed(rates.adaptive - rates.lru),
      signed(rates.adaptive - caffeine),
      signed(rates.adaptive - optimal),
    ];
  });
  const table: BenchTable = {
    id: 'cache-hit-rate',
    title: `Hit rate: ${capacity} entries, ${keys} keys, ${length.toLocaleString('en-US')} requests per trace (get, set on miss)`,
    columns: [
      'trace',
      ...POLICIES,
      'lru-cache',
      "Caffeine's W-TinyLFU",
      'best fixed set',
      "Belady's optimal",
      'adaptive − best(lru, lfu)',
      'adaptive − lru',
      'adaptive − Caffeine',
      'adaptive − optimal',
    ],
    rows,
    notes: [
      'the ttl policy evicts by expiry; these traces set no TTLs, so it degenerates to FIFO here',
      'scans: after every 5 000 Zipf requests, 2 000 requests walk a loop of 20 000 other keys',
      'recency: each request re-reads a recently used key at a geometric stack distance (mean 500), or 10 % of the time a new key',
      "Caffeine's W-TinyLFU: bench/caffeine-port.ts, Caffeine 3's eviction, sketch and hill climber ported for this simulator (the reference for `adaptive`)",
      'best fixed set: the most requested keys of the whole trace, known in advance (the limit for frequency-based policies on a stationary trace)',
      "Belady's optimal evicts the key used farthest in the future: an offline limit no online policy reaches",
    ],
  };
  console.log(renderText(table));
  return table;
}

export async function memoryCacheSpeed({ timeMs, rounds }: BenchSettings): Promise<BenchTable[]> {
  const trace = zipfTrace(20_000, 0.9, 1 << 16, 7);
  const mask = (1 << 16) - 1;
  const tables: BenchTable[] = [];
  for (const policy of ['lru', 'adaptive'] as const) {
    const ours = new MemoryCache<number>({ maxEntries: 5_000, policy });
    const peer = new LRUCache<string, number>({ max: 5_000 });
    let a = 0;
    let b = 0;
    const result = await compare(
      `MemoryCache.get, set on miss (policy ${policy}) vs lru-cache: Zipf 0.9 over 20 000 keys, 5 000 entries`,
      {
        [`MemoryCache (${policy})`]: () => {
          const key = trace[a++ & mask]!;
          if (ours.get(key) === undefined) ours.set(key, 1);
        },
        'lru-cache': () => {
          const key = trace[b++ & mask]!;
          if (peer.get(key) === undefined) peer.set(key, 1);
        },
      },
      { id: `cache-memory-speed-${policy}`, baseline: 'lru-cache', timeMs, rounds },
    );
    tables.push(result.table);
  }
  return tables;
}

export async function cacheApiSpeed({ timeMs, rounds }: BenchSettings): Promise<BenchTable[]> {
  const ours = createCache({ namespace: 'bench', tiers: [memoryTier({ maxEntries: 10_000 })] });
  const bento = new BentoCache({
    default: 'memory',
    stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000 })) },
  });
  const manager = createCacheManager();
  const keys = Array.from({ length: 1_000 }, (_, i) => `user:${i}`);
  const value = { id: 1, name: 'Ada Lovelace', roles: ['admin', 'author'] };
  for (const key of keys) {
    await ours.set(key, value, { ttlMs: 3_600_000 });
    await bento.set({ key, value, ttl: '1h' });
    await manager.set(key, value, 3_600_000);
  }
  const loader = () => value;
  let i = 0;
  const next = () => keys[i++ % 1_000]!;
  const get = await compare(
    'cache.get, memory hit (1 000 keys): @noa/cache-manager vs bentocache vs cache-manager v7',
    {
      '@noa/cache-manager': () => ours.get(next()),
      bentocache: () => bento.get({ key: next() }),
      'cache-manager': () => manager.get(next()),
    },
    { id: 'cache-api-get', timeMs, rounds },
  );
  const getOrSet = await compare(
    'cache.getOrSet, memory hit (1 000 keys): @noa/cache-manager vs bentocache getOrSet vs cache-manager wrap',
    {
      '@noa/cache-manager': () => ours.getOrSet(next(), loader, { ttlMs: 3_600_000 }),
      bentocache: () => bento.getOrSet({ key: next(), factory: loader, ttl: '1h' }),
      'cache-manager': () => manager.wrap(next(), loader, 3_600_000),
    },
    { id: 'cache-api-get-or-set', timeMs, rounds },
  );
  await ours.close();
  await bento.disconnectAll();
  await manager.disconnect();
  return [get.table, getOrSet.table];
}
