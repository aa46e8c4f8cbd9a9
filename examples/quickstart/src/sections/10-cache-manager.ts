import { createCache, MemoryCache, memoryTier } from '@noa/cache-manager';

export const title = '@noa/cache-manager: adaptive eviction, stampede protection, stale serving, tags';

export async function run(): Promise<void> {
  // Eviction: a hot set survives a one-off scan under W-TinyLFU but not under LRU.
  const survivors = (policy: 'lru' | 'adaptive') => {
    const m = new MemoryCache<number>({ maxEntries: 100, policy });
    const hot = Array.from({ length: 50 }, (_, i) => `hot:${i}`);
    for (let round = 0; round < 10; round++) for (const k of hot) if (m.get(k) === undefined) m.set(k, 1);
    for (let i = 0; i < 1_000; i++) if (m.get(`scan:${i}`) === undefined) m.set(`scan:${i}`, 1);
    return hot.filter((k) => m.has(k)).length;
  };
  console.log(
    `  eviction: after a scan of 1 000 keys, ${survivors('adaptive')}/50 hot keys survive with 'adaptive', ${survivors('lru')}/50 with 'lru'`,
  );

  const cache = createCache({
    namespace: 'demo',
    tiers: [memoryTier({ maxEntries: 10_000, policy: 'adaptive' })],
    defaultTtlMs: 60_000,
  });
  let queries = 0;
  const loadUser = async () => {
    queries++;
    await new Promise((r) => setTimeout(r, 20));
    return { id: 1, name: 'Ada' };
  };
  await Promise.all(
    Array.from({ length: 100 }, () => cache.getOrSet('user:1', loadUser, { tags: ['user:1'] })),
  );
  console.log(`  stampede: 100 concurrent getOrSet calls of a missing key ran the loader ${queries} time(s)`);

  await cache.set('post:1', 'v1', { ttlMs: 30, graceMs: 60_000 });
  await new Promise((r) => setTimeout(r, 40));
  const served = await cache.getOrSet('post:1', () => Promise.reject(new Error('database down')));
  console.log(`  grace: the loader failed after expiry and the cache served the stale '${served}'`);

  const slow = await cache
    .getOrSet('report', () => new Promise((r) => setTimeout(() => r('late'), 200)), { timeoutMs: 20 })
    .catch((e: { code: string }) => e.code);
  console.log(`  soft timeout: with nothing stale to serve, a slow loader becomes ${slow} after 20 ms`);

  await cache.invalidateTags(['user:1']);
  console.log(
    `  tags: after invalidateTags(['user:1']) the key reads as ${String(await cache.get('user:1'))}; stats ${JSON.stringify({ hits: cache.stats().hits, misses: cache.stats().misses })}`,
  );
  console.log(`  http: ${JSON.stringify(cache.httpHeaders('page:/', { ttlMs: 300_000, tags: ['post:1'] }))}`);
  await cache.close();
}
