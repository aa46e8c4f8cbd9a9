import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { beladyHits, replay } from '../bench/traces.js';
import { type EvictionPolicyName, MemoryCache } from '../src/index.js';

const POLICIES: EvictionPolicyName[] = ['lru', 'lfu', 'fifo', 'ttl', 'adaptive'];

describe.each(POLICIES)('MemoryCache (%s)', (policy) => {
  it('stores, reads, deletes and clears synchronously', () => {
    const m = new MemoryCache<string>({ maxEntries: 10, policy });
    expect(m.get('a')).toBeUndefined();
    m.set('a', 'A').set('b', 'B');
    expect(m.get('a')).toBe('A');
    expect(m.has('b')).toBe(true);
    expect(m.size).toBe(2);
    expect(m.delete('a')).toBe(true);
    expect(m.delete('a')).toBe(false);
    expect(m.has('a')).toBe(false);
    m.set('b', 'B2');
    expect(m.peek('b')).toBe('B2');
    m.clear();
    expect(m.size).toBe(0);
    expect(m.get('b')).toBeUndefined();
  });

  it('never holds more than maxEntries and reports evictions', () => {
    const evicted: string[] = [];
    const m = new MemoryCache<number>({ maxEntries: 50, policy, onEvict: (key) => evicted.push(key) });
    for (let i = 0; i < 500; i++) {
      m.set(`k${i}`, i);
      m.get(`k${i % 7}`);
      expect(m.size).toBeLessThanOrEqual(50);
    }
    expect(m.size).toBe(50);
    expect(evicted).toHaveLength(450);
    expect(new Set(evicted).size).toBe(450);
  });

  it('expires entries after their TTL', () => {
    let now = 1_000_000;
    const m = new MemoryCache<string>({ maxEntries: 10, policy, now: () => now });
    m.set('short', 's', 100);
    m.set('forever', 'f');
    now += 99;
    expect(m.get('short')).toBe('s');
    expect(m.remainingTtl('short')).toBe(1);
    now += 1;
    expect(m.get('short')).toBeUndefined();
    expect(m.has('short')).toBe(false);
    expect(m.get('forever')).toBe('f');
    expect(m.remainingTtl('forever')).toBe(Number.POSITIVE_INFINITY);
    expect([...m.keys()]).toEqual(['forever']);
  });

  it('applies the default ttlMs', () => {
    let now = 0;
    const m = new MemoryCache<string>({ maxEntries: 10, policy, ttlMs: 50, now: () => now });
    m.set('a', 'A');
    now = 50;
    expect(m.get('a')).toBeUndefined();
  });

  it('returns only values that were set for that key (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('get', 'set', 'delete'), fc.integer({ min: 0, max: 30 })), {
          maxLength: 300,
        }),
        fc.integer({ min: 1, max: 12 }),
        (ops, maxEntries) => {
          const m = new MemoryCache<string>({ maxEntries, policy });
          const model = new Map<string, string>();
          ops.forEach(([op, n], step) => {
            const key = `k${n}`;
            if (op === 'set') {
              const value = `${key}@${step}`;
              m.set(key, value);
              model.set(key, value);
              // A value just written is readable (nothing expires here, so no policy evicts it first).
              expect(m.peek(key)).toBe(value);
            } else if (op === 'delete') {
              m.delete(key);
              model.delete(key);
            } else {
              const value = m.get(key);
              if (value !== undefined) expect(value).toBe(model.get(key));
            }
            expect(m.size).toBeLessThanOrEqual(maxEntries);
          });
        },
      ),
    );
  });

  it('rejects bad input with clear errors', () => {
    expect(() => new MemoryCache({ maxEntries: 0, policy })).toThrow(/maxEntries/);
    const m = new MemoryCache<number>({ maxEntries: 2, policy });
    expect(() => m.set(42 as never, 1)).toThrow(expect.objectContaining({ code: 'NOA_CACHE_INVALID_KEY' }));
    const reads: Array<(key: never) => unknown> = [m.get, m.peek, m.has, m.delete];
    for (const read of reads) {
      expect(() => read.call(m, {} as never)).toThrow(
        expect.objectContaining({ code: 'NOA_CACHE_INVALID_KEY' }),
      );
    }
    expect(() => m.set('a', 1, -5)).toThrow(expect.objectContaining({ code: 'NOA_CACHE_INVALID_TTL' }));
    expect(() => m.set('a', 1, Number.NaN)).toThrow(
      expect.objectContaining({ code: 'NOA_CACHE_INVALID_TTL' }),
    );
  });
});

describe('eviction order', () => {
  const fill = (policy: EvictionPolicyName, now?: () => number) => {
    const m = new MemoryCache<number>({ maxEntries: 3, policy, now });
    m.set('a', 1).set('b', 2).set('c', 3);
    return m;
  };

  it('lru evicts the least recently used', () => {
    const m = fill('lru');
    m.get('a');
    m.set('d', 4);
    expect([...m.keys()].sort()).toEqual(['a', 'c', 'd']);
  });

  it('lru matches a reference model exactly (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 400 }), (keys) => {
        const m = new MemoryCache<number>({ maxEntries: 5, policy: 'lru' });
        const model: string[] = [];
        for (const n of keys) {
          const key = `k${n}`;
          if (m.get(key) === undefined) m.set(key, n);
          const at = model.indexOf(key);
          if (at >= 0) model.splice(at, 1);
          model.push(key);
          if (model.length > 5) model.shift();
        }
        expect([...m.keys()].sort()).toEqual([...model].sort());
      }),
    );
  });

  it('fifo evicts the oldest insert, whatever was read', () => {
    const m = fill('fifo');
    m.get('a');
    m.set('d', 4);
    expect([...m.keys()].sort()).toEqual(['b', 'c', 'd']);
  });

  it('lfu evicts the least frequently used, least recent first on ties', () => {
    const m = fill('lfu');
    m.get('a');
    m.get('a');
    m.get('c');
    m.set('d', 4);
    expect([...m.keys()].sort()).toEqual(['a', 'c', 'd']);
    m.set('e', 5); // d (1 use) and ... d is the only frequency-1 entry left
    expect([...m.keys()].sort()).toEqual(['a', 'c', 'e']);
  });

  it('ttl evicts the entry that expires soonest, then entries without TTL', () => {
    let now = 10_000_000;
    const m = new MemoryCache<number>({ maxEntries: 3, policy: 'ttl', now: () => now });
    m.set('forever', 0);
    m.set('hour', 1, 3_600_000);
    m.set('second', 2, 1_000);
    m.set('minute', 3, 60_000);
    expect([...m.keys()].sort()).toEqual(['forever', 'hour', 'minute']);
    now += 30_000; // the wheel advances; order must survive the cascade
    m.set('day', 4, 86_400_000);
    expect([...m.keys()].sort()).toEqual(['day', 'forever', 'hour']);
    m.set('week', 5, 7 * 86_400_000);
    expect([...m.keys()].sort()).toEqual(['day', 'forever', 'week']);
    m.set('x', 6);
    expect(m.has('forever')).toBe(true);
    expect(m.size).toBe(3);
  });

  it('ttl evicts expired entries first and keeps counting across long jumps', () => {
    let now = 5_000_000;
    const m = new MemoryCache<number>({ maxEntries: 100, policy: 'ttl', now: () => now });
    for (let i = 0; i < 100; i++) m.set(`k${i}`, i, 1_000 + i * 10_000);
    now += 500_000; // the first 50 have expired
    for (let i = 0; i < 50; i++) m.set(`n${i}`, i, 10_000_000);
    for (let i = 50; i < 100; i++) expect(m.has(`k${i}`)).toBe(true);
    expect(m.size).toBe(100);
  });

  it('adaptive keeps a hot working set through a scan that flushes lru', () => {
    const hot = Array.from({ length: 50 }, (_, i) => `hot${i}`);
    const run = (policy: EvictionPolicyName) => {
      const m = new MemoryCache<number>({ maxEntries: 100, policy });
      for (let round = 0; round < 20; round++)
        for (const key of hot) if (m.get(key) === undefined) m.set(key, 1);
      for (let i = 0; i < 1_000; i++) if (m.get(`scan${i}`) === undefined) m.set(`scan${i}`, 1);
      return hot.filter((key) => m.has(key)).length;
    };
    expect(run('lru')).toBe(0);
    expect(run('adaptive')).toBeGreaterThanOrEqual(45);
  });
});

describe('trace simulator', () => {
  it("Belady's optimal is an upper bound for every policy (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 500 }),
        fc.integer({ min: 1, max: 20 }),
        (ids, capacity) => {
          const trace = ids.map((id) => `k${id}`);
          const optimal = beladyHits(trace, capacity);
          for (const policy of POLICIES) {
            expect(replay(trace, new MemoryCache({ maxEntries: capacity, policy }))).toBeLessThanOrEqual(
              optimal,
            );
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
