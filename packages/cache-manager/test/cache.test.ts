import { createMemoryMetrics, isNoaError } from '@noa/core';
import { waitUntil } from '@noa/testkit';
import { describe, expect, it, vi } from 'vitest';
import { type CacheBus, type CacheEvents, type CacheTier, createCache, memoryTier } from '../src/index.js';

const clock = (start = 1_000_000) => {
  const state = { now: start };
  return Object.assign(() => state.now, { advance: (ms: number) => (state.now += ms) });
};
const deferred = <T>() => {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
const events = <E extends keyof CacheEvents>(cache: ReturnType<typeof createCache>, name: E) => {
  const seen: CacheEvents[E][0][] = [];
  cache.on(name, ((event: CacheEvents[E][0]) => seen.push(event)) as never);
  return seen;
};

/** Wraps a tier and counts per-key operations, to prove tag invalidation touches no keys. */
function countingTier(inner: CacheTier) {
  const counts = { get: 0, set: 0, delete: 0, clear: 0 };
  const tier: CacheTier = {
    ...inner,
    name: inner.name,
    kind: inner.kind,
    attach: (context) => inner.attach(context),
    get(key) {
      counts.get++;
      return inner.get(key);
    },
    set(key, entry) {
      counts.set++;
      return inner.set(key, entry);
    },
    delete(keys) {
      counts.delete += keys.length;
      return inner.delete(keys);
    },
    clear() {
      counts.clear++;
      return inner.clear();
    },
  };
  return { tier, counts };
}

describe('createCache with a memory tier', () => {
  it('gets, sets, deletes and clears', async () => {
    const cache = createCache({ namespace: 'app', tiers: [memoryTier()] });
    expect(await cache.get('user:1')).toBeUndefined();
    await cache.set('user:1', { name: 'Ada' });
    expect(await cache.get('user:1')).toEqual({ name: 'Ada' });
    await cache.set('user:2', null);
    expect(await cache.get('user:2')).toBeNull();
    await cache.delete('user:1');
    expect(await cache.get('user:1')).toBeUndefined();
    await cache.clear();
    expect(await cache.get('user:2')).toBeUndefined();
    await cache.close();
  });

  it('keeps values by reference in memory', async () => {
    const cache = createCache({ namespace: 'app', tiers: [memoryTier()] });
    const value = { big: new Array(1000).fill(1) };
    await cache.set('k', value);
    expect(await cache.get('k')).toBe(value);
  });

  it('expires values after ttlMs (default and per call)', async () => {
    const now = clock();
    const cache = createCache({ namespace: 'app', tiers: [memoryTier({ now })], defaultTtlMs: 1_000, now });
    await cache.set('default', 1);
    await cache.set('short', 2, { ttlMs: 100 });
    await cache.set('forever', 3, { ttlMs: Number.POSITIVE_INFINITY });
    now.advance(100);
    expect(await cache.get('short')).toBeUndefined();
    expect(await cache.get('default')).toBe(1);
    now.advance(900);
    expect(await cache.get('default')).toBeUndefined();
    now.advance(10 ** 9);
    expect(await cache.get('forever')).toBe(3);
  });

  it('rejects bad input with stable codes', async () => {
    const cache = createCache({ namespace: 'app', tiers: [memoryTier()] });
    const code = (promise: Promise<unknown>) =>
      promise.then(
        () => 'resolved',
        (e) => (isNoaError(e) ? e.code : e),
      );
    expect(await code(cache.get(1 as never))).toBe('NOA_CACHE_INVALID_KEY');
    expect(await code(cache.get(''))).toBe('NOA_CACHE_INVALID_KEY');
    expect(await code(cache.set('k', 1, { ttlMs: -1 }))).toBe('NOA_CACHE_INVALID_TTL');
    expect(await code(cache.set('k', 1, { ttlMs: 0 }))).toBe('NOA_CACHE_INVALID_TTL');
    expect(await code(cache.set('k', undefined))).toBe('NOA_CACHE_INVALID_VALUE');
    expect(await code(cache.set('k', 1, { tags: [''] }))).toBe('NOA_CACHE_INVALID_TAG');
    expect(await code(cache.getOrSet('k', async () => undefined))).toBe('NOA_CACHE_LOADER_UNDEFINED');
    expect(await code(cache.getOrSet('k', 'nope' as never))).toBe('NOA_INVALID_OPTION');
    expect(await code(cache.getOrSet('k', () => 1, { graceMs: -1 }))).toBe('NOA_CACHE_INVALID_TTL');
    expect(await code(cache.invalidateTags('t' as never))).toBe('NOA_CACHE_INVALID_TAG');
    expect(() => createCache({ namespace: '', tiers: [memoryTier()] })).toThrow(/namespace/);
    expect(() => createCache({ namespace: 'x', tiers: [] })).toThrow(/tiers/);
    expect(() => createCache({ namespace: 'x', tiers: [memoryTier()], defaultTtlMs: -5 })).toThrow(
      /defaultTtlMs/,
    );
    expect(() => createCache({ namespace: 'x', tiers: [memoryTier()], lock: 'distributed' })).toThrow(/lock/);
    const shared = memoryTier();
    createCache({ namespace: 'x', tiers: [shared] });
    expect(() => createCache({ namespace: 'y', tiers: [shared] })).toThrow(/already belongs/);
  });
});

describe('getOrSet', () => {
  it('runs the loader once for concurrent misses of one key (stampede)', async () => {
    const cache = createCache({ namespace: 'app', tiers: [memoryTier()] });
    let loads = 0;
    const gate = deferred<void>();
    const calls = Array.from({ length: 100 }, () =>
      cache.getOrSet('hot', async () => {
        loads++;
        await gate.promise;
        return 'value';
      }),
    );
    gate.resolve();
    expect(new Set(await Promise.all(calls))).toEqual(new Set(['value']));
    expect(loads).toBe(1);
    expect(await cache.getOrSet('hot', () => 'other')).toBe('value');
    expect(cache.stats()).toMatchObject({ loads: 1, hits: 1 });
  });

  it('passes the key, the stale value and a signal to the loader', async () => {
    const now = clock();
    const cache = createCache({ namespace: 'app', tiers: [memoryTier({ now })], now });
    await cache.set('k', 'old', { ttlMs: 100, graceMs: 1_000 });
    now.advance(200);
    const seen: unknown[] = [];
    await cache.getOrSet('k', (ctx) => {
      seen.push(ctx.key, ctx.stale, ctx.signal.aborted);
      return 'new';
    });
    expect(seen).toEqual(['k', 'old', false]);
  });

  it("rethrows the loader's error when there is nothing stale, and reports it", async () => {
    const cache = createCache({ namespace: 'app', tiers: [memoryTier()] });
    const errors = events(cache, 'error');
    const boom = new Error('db down');
    await expect(cache.getOrSet('k', () => Promise.reject(boom))).rejects.toBe(boom);
    expect(errors).toEqual([expect.objectContaining({ error: boom, key: 'k', operation: 'load' })]);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('serves the stale value when the loader fails within the grace period (stale-if-error)', async () => {
    const now = clock();
    const cache = createCache({ namespace: 'app', tiers: [memoryTier({ now })], now });
    const errors = events(cache, 'error');
    await cache.getOrSet('k', () => 'v1', { ttlMs: 1_000, graceMs: 10_000 });
    now.advance(5_000);
    const boom = new Error('db down');
    expect(await cache.getOrSet('k', () => Promise.reject(boom), { ttlMs: 1_000, graceMs: 10_000 })).toBe(
      'v1',
    );
    expect(errors).toEqual([expect.objectContaining({ error: boom, key: 'k', servedStale: true })]);
    expect(cache.stats().staleServed).toBe(1);
    now.advance(6_001); // past the grace period: nothing to fall back on
    await expect(cache.getOrSet('k', () => Promise.reject(boom))).rejects.toBe(boom);
  });

  it('bounds the wait with timeoutMs: stale value at once, fresh value stored when the loader ends', async () => {
    const now = clock();
    const cache = createCache({ namespace: 'app', tiers: [memoryTier({ now })], now });
    await cache.set('k', 'stale', { ttlMs: 100, graceMs: 60_000 });
    now.advance(200);
    const slow = deferred<string>();
    const errors = events(cache, 'error');
    expect(await cache.getOrSet('k', () => slow.promise, { timeoutMs: 20 })).toBe('stale');
    expect(errors[0]).toMatchObject({ operation: 'load.timeout', servedStale: true });
    slow.resolve('fresh');
    await waitUntil(async () => (await cache.get('k')) === 'fresh');
  });

  it('fails with NOA_CACHE_LOADER_TIMEOUT when nothing stale exists, and still stores the late value', async () => {
    const cache = createCache({ namespace: 'app', tiers: [memoryTier()] });
    const slow = deferred<string>();
    await expect(cache.getOrSet('k', () => slow.promise, { timeoutMs: 10 })).rejects.toMatchObject({
      code: 'NOA_CACHE_LOADER_TIMEOUT',
    });
    slow.resolve('late');
    await waitUntil(async () => (await cache.get('k')) === 'late');
  });

  it('refreshes hot keys before they expire (XFetch) so readers never miss', async () => {
    const now = clock();
    const cache = createCache({ namespace: 'app', tiers: [memoryTier({ now })], now });
    const misses = events(cache, 'miss');
    let loads = 0;
    const loader = async () => {
      loads++;
      return `v${loads}`;
    };
    const options = { ttlMs: 1_000, earlyRefresh: { beta: 1 } };
    await cache.getOrSet('hot', loader, options);
    expect(misses).toHaveLength(1);
    // Read every millisecond for 5 TTLs; the clock only moves between reads. With delta = 1 % of
    // the TTL, the chance that no read in a period triggers the refresh is below 1e-4.
    for (let t = 0; t < 5_000; t += 1) {
      now.advance(1);
      await cache.getOrSet('hot', loader, options);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(misses).toHaveLength(1);
    expect(loads).toBeGreaterThanOrEqual(5);
    expect(cache.stats().earlyRefreshes).toBe(loads - 1);
  });

  it('reports background refresh failures without surfacing them', async () => {
    const now = clock();
    const cache = createCache({ namespace: 'app', tiers: [memoryTier({ now })], now });
    const errors = events(cache, 'error');
    await cache.set('k', 'v', { ttlMs: 100 });
    now.advance(99);
    const boom = new Error('refresh failed');
    // beta so large the refresh is certain.
    expect(await cache.getOrSet('k', () => Promise.reject(boom), { earlyRefresh: { beta: 1e9 } })).toBe('v');
    await waitUntil(() => errors.length === 1);
    expect(errors[0]).toMatchObject({ error: boom, operation: 'refresh' });
  });
});

describe('tags', () => {
  it('invalidates every key of a tag in O(1): no per-key work', async () => {
    const { tier, counts } = countingTier(memoryTier({ maxEntries: 5_000 }));
    const cache = createCache({ namespace: 'app', tiers: [tier] });
    for (let i = 0; i < 2_000; i++)
      await cache.set(`post:${i}`, i, { tags: [i % 2 ? 'odd' : 'even', 'all'] });
    await cache.set('untagged', 'u');
    const before = { ...counts };
    await cache.invalidateTags(['odd']);
    expect(counts).toEqual(before);
    expect(await cache.get('post:1')).toBeUndefined();
    expect(await cache.get('post:2')).toBe(2);
    await cache.invalidateTags(['all']);
    expect(await cache.get('post:2')).toBeUndefined();
    expect(await cache.get('untagged')).toBe('u');
    // Re-set after invalidation: the new entry carries the new version.
    await cache.set('post:2', 'again', { tags: ['all'] });
    expect(await cache.get('post:2')).toBe('again');
  });

  it('treats a value loaded while its tag was invalidated as already stale', async () => {
    const cache = createCache({ namespace: 'app', tiers: [memoryTier()] });
    const gate = deferred<string>();
    const loading = cache.getOrSet('user:1', () => gate.promise, { tags: ['user:1'] });
    await new Promise((resolve) => setImmediate(resolve));
    await cache.invalidateTags(['user:1']);
    gate.resolve('read before the update');
    expect(await loading).toBe('read before the update');
    expect(await cache.get('user:1')).toBeUndefined();
  });
});

describe('events, stats, metrics, lifecycle', () => {
  it('emits hit, miss, set, delete and evict', async () => {
    const cache = createCache({ namespace: 'app', tiers: [memoryTier({ maxEntries: 2, policy: 'lru' })] });
    const hits = events(cache, 'hit');
    const misses = events(cache, 'miss');
    const sets = events(cache, 'set');
    const deletes = events(cache, 'delete');
    const evictions = events(cache, 'evict');
    await cache.get('a');
    await cache.set('a', 1);
    await cache.get('a');
    await cache.set('b', 2);
    await cache.set('c', 3);
    await cache.delete('b');
    expect(misses).toEqual([{ key: 'a' }]);
    expect(hits).toEqual([{ key: 'a', tier: 'memory' }]);
    expect(sets.map((e) => e.key)).toEqual(['a', 'b', 'c']);
    expect(deletes).toEqual([{ key: 'b' }]);
    expect(evictions).toEqual([{ key: 'a', tier: 'memory', reason: 'capacity' }]);
  });

  it('counts hits and misses overall and per tier, and reports them as metrics', async () => {
    const metrics = createMemoryMetrics();
    const cache = createCache({ namespace: 'app', tiers: [memoryTier({ name: 'l1' })], metrics });
    await cache.get('x');
    await cache.set('x', 1);
    await cache.get('x');
    await cache.get('x');
    const stats = cache.stats();
    expect(stats).toMatchObject({ hits: 2, misses: 1, sets: 1 });
    expect(stats.hitRate).toBeCloseTo(2 / 3);
    expect(stats.tiers[0]).toMatchObject({ name: 'l1', hits: 2, misses: 1, size: 1 });
    expect(metrics.value('cache_hits_total', { namespace: 'app', tier: 'l1' })).toBe(2);
    expect(metrics.value('cache_misses_total', { namespace: 'app', tier: 'l1' })).toBe(1);
    await cache.getOrSet('y', () => 1);
    expect(
      metrics.observations('cache_loader_duration_seconds', { namespace: 'app', outcome: 'ok' }),
    ).toHaveLength(1);
  });

  it('close() also waits for a getOrSet still reading a remote tier, and for the load it then starts (fake remote tier)', async () => {
    const read = deferred<undefined>();
    const remote: CacheTier = {
      name: 'remote (fake)',
      kind: 'shared',
      attach() {},
      get: () => read.promise,
      set: async () => {},
      delete: async () => {},
      clear: async () => {},
    };
    const cache = createCache({ namespace: 'app', tiers: [memoryTier(), remote] });
    let loaded = false;
    const result = cache.getOrSet('k', async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      loaded = true;
      return 'v';
    });
    let closed = false;
    const closing = cache.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closed).toBe(false);
    read.resolve(undefined); // a miss: the loader runs now
    await closing;
    expect(loaded).toBe(true);
    expect(await result).toBe('v');
  });

  it('close() waits for running loaders, then refuses calls', async () => {
    const cache = createCache({ namespace: 'app', tiers: [memoryTier()] });
    const gate = deferred<string>();
    const loading = cache.getOrSet('k', () => gate.promise);
    const closing = cache.close();
    let closed = false;
    void closing.then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closed).toBe(false);
    gate.resolve('done');
    await closing;
    expect(await loading).toBe('done');
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'NOA_CACHE_CLOSED' });
    await cache[Symbol.asyncDispose]();
  });
});

describe('warm and httpHeaders', () => {
  it('warms keys with bounded concurrency, skipping cached ones and counting failures', async () => {
    const cache = createCache({ namespace: 'app', tiers: [memoryTier()] });
    await cache.set('k0', 'cached');
    let running = 0;
    let peak = 0;
    const result = await cache.warm(
      Array.from({ length: 40 }, (_, i) => `k${i}`),
      async (key) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 2));
        running--;
        if (key === 'k13') throw new Error('no such row');
        return key.toUpperCase();
      },
      { concurrency: 4, ttlMs: 60_000 },
    );
    expect(result).toMatchObject({ loaded: 38, skipped: 1, failed: 1 });
    expect(result.errors[0]).toMatchObject({ key: 'k13' });
    expect(peak).toBe(4);
    expect(await cache.get('k7')).toBe('K7');
    expect(await cache.get('k0')).toBe('cached');
  });

  it('gives Cache-Control and surrogate-key headers', () => {
    const cache = createCache({ namespace: 'app', tiers: [memoryTier()], defaultTtlMs: 300_000 });
    expect(cache.httpHeaders('page:/')).toEqual({ 'Cache-Control': 'public, max-age=0, s-maxage=300' });
    expect(cache.httpHeaders('page:/', { ttlMs: 60_000, graceMs: 30_000, tags: ['post:1', 'home'] })).toEqual(
      {
        'Cache-Control': 'public, max-age=0, s-maxage=60, stale-while-revalidate=30, stale-if-error=30',
        'Surrogate-Key': 'post:1 home',
        'Cache-Tag': 'post:1,home',
      },
    );
    expect(() => cache.httpHeaders('p', { tags: ['has space'] })).toThrow(
      expect.objectContaining({ code: 'NOA_CACHE_INVALID_TAG' }),
    );
  });
});

describe('one time budget per call (fake remote tier and bus)', () => {
  it('set, delete, clear and invalidateTags wait at most the largest timeoutMs in all, not one per step', async () => {
    vi.useFakeTimers();
    try {
      // A remote tier and a bus that hang until released: each step alone would take its full timeout.
      const hang = deferred<void>();
      const remote: CacheTier = {
        name: 'remote (fake)',
        kind: 'shared',
        timeoutMs: 100,
        attach() {},
        get: () => hang.promise.then(() => undefined),
        set: () => hang.promise,
        delete: () => hang.promise,
        clear: () => hang.promise,
      };
      const published: string[] = [];
      const bus: CacheBus = {
        timeoutMs: 80,
        start: async () => {},
        publish: (message) => {
          published.push(message.type);
          return hang.promise;
        },
        close: async () => {},
      };
      const cache = createCache({ namespace: 'app', tiers: [memoryTier(), remote], bus });
      const elapsed = async (call: () => Promise<unknown>) => {
        const started = Date.now();
        let done = false;
        void call().then(() => (done = true));
        await vi.advanceTimersByTimeAsync(99);
        expect(done).toBe(false);
        await vi.advanceTimersByTimeAsync(1);
        expect(done).toBe(true);
        return Date.now() - started;
      };
      expect(await elapsed(() => cache.set('k', 'v', { tags: ['t'] }))).toBe(100);
      expect(await cache.get('k')).toBe('v'); // memory was written before the wait
      expect(await elapsed(() => cache.delete('k'))).toBe(100);
      expect(await elapsed(() => cache.invalidateTags(['t']))).toBe(100);
      expect(await elapsed(() => cache.clear())).toBe(100);
      hang.resolve();
      await vi.advanceTimersByTimeAsync(0);
      // Each message goes out after its own remote write (so no instance re-reads the old value).
      expect(published.sort()).toEqual(['clear', 'delete', 'set', 'tags']);
      await cache.close(); // the unfinished remote work was tracked and is over now
    } finally {
      vi.useRealTimers();
    }
  });
});
