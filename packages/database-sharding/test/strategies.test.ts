import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  consistentHashStrategy,
  createStrategy,
  geoStrategy,
  hashStrategy,
  jumpHashStrategy,
  rangeStrategy,
  rendezvousStrategy,
  type ShardKey,
} from '../src/index.js';

const shardList = (n: number) => Array.from({ length: n }, (_, i) => `shard-${i}`);
const key = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const sample = Array.from({ length: 4000 }, (_, i) => (i % 3 === 0 ? i * 7919 : `key-${i}`));

const makers = {
  hash: (shards: string[]) => hashStrategy({ shards }),
  jump: (shards: string[]) => jumpHashStrategy({ shards }),
  rendezvous: (shards: string[]) => rendezvousStrategy({ shards }),
  consistent: (shards: string[]) => consistentHashStrategy({ shards, virtualNodes: 64 }),
};

function moved(a: { shardFor(k: ShardKey): string }, b: { shardFor(k: ShardKey): string }) {
  return sample.filter((k) => a.shardFor(k) !== b.shardFor(k));
}

describe.each(Object.entries(makers))('%s strategy', (name, make) => {
  it('is deterministic: equal strategies map every key alike, to one of their shards', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), key, (n, k) => {
        const shards = shardList(n);
        const a = make(shards);
        const b = createStrategy(a.toSpec());
        expect(a.shardFor(k)).toBe(b.shardFor(k));
        expect(shards).toContain(a.shardFor(k));
      }),
    );
  });

  it('withShards returns a new strategy and leaves the old one unchanged', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(key, { minLength: 1, maxLength: 30 }),
        (n, keys) => {
          const shards = shardList(n);
          const before = make(shards);
          const mapping = keys.map((k) => before.shardFor(k));
          const after = before.withShards(shardList(n + 3));
          expect(after).not.toBe(before);
          expect(before.shards).toEqual(shards);
          expect(keys.map((k) => before.shardFor(k))).toEqual(mapping);
          expect(after.shards).toHaveLength(n + 3);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('spreads keys over every shard', () => {
    const strategy = make(shardList(8));
    const counts = new Map<string, number>();
    for (const k of sample) counts.set(strategy.shardFor(k), (counts.get(strategy.shardFor(k)) ?? 0) + 1);
    expect(counts.size).toBe(8);
    for (const count of counts.values()) expect(count).toBeGreaterThan(sample.length / 8 / 2);
  });

  it('maps 42 and "42" to the same shard', () => {
    const strategy = make(shardList(13));
    expect(strategy.shardFor(42)).toBe(strategy.shardFor('42'));
  });

  it('rejects bad shard lists and keys with clear errors', () => {
    expect(() => make([])).toThrow(/non-empty array/);
    expect(() => make(['a', 'a'])).toThrow(/twice/);
    expect(() => make(['a', ''])).toThrow(/non-empty strings/);
    expect(() => make(['a']).shardFor(Number.POSITIVE_INFINITY)).toThrow(
      expect.objectContaining({ code: 'NOA_SHARDING_INVALID_KEY' }),
    );
    expect(() => make(['a']).shardFor(undefined as never)).toThrow(
      expect.objectContaining({ code: 'NOA_SHARDING_INVALID_KEY' }),
    );
  });

  if (name === 'hash') return;

  it('growing N -> N+1 moves only keys onto the new shard, about 1/(N+1) of them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), (n) => {
        const before = make(shardList(n));
        const after = before.withShards(shardList(n + 1));
        const changed = moved(before, after);
        for (const k of changed) expect(after.shardFor(k)).toBe(`shard-${n}`);
        // Ideal is 1/(n+1); allow sampling noise and ring variance.
        expect(changed.length / sample.length).toBeLessThan(2.2 / (n + 1) + 0.02);
      }),
      { numRuns: 20 },
    );
  });
});

describe.each(['rendezvous', 'consistent'] as const)('%s: removing any shard', (name) => {
  it('moves only the keys of the removed shard, and the list order does not matter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 25 }), fc.nat(), fc.nat(), (n, pick, rotate) => {
        const shards = shardList(n);
        const removed = shards[pick % n]!;
        const before = makers[name](shards);
        const after = before.withShards(shards.filter((s) => s !== removed));
        for (const k of moved(before, after)) expect(before.shardFor(k)).toBe(removed);
        const rotated = [...shards.slice(rotate % n), ...shards.slice(0, rotate % n)];
        const reordered = makers[name](rotated);
        for (const k of sample.slice(0, 300)) expect(reordered.shardFor(k)).toBe(before.shardFor(k));
      }),
      { numRuns: 20 },
    );
  });
});

describe('jump: shards are positions', () => {
  it('removing the last shard moves only its keys', () => {
    const shards = shardList(10);
    const before = jumpHashStrategy({ shards });
    const after = before.withShards(shards.slice(0, 9));
    for (const k of moved(before, after)) expect(before.shardFor(k)).toBe('shard-9');
  });
});

describe('consistent hashing options', () => {
  it('validates virtualNodes and keeps it across withShards and the spec', () => {
    expect(() => consistentHashStrategy({ shards: ['a'], virtualNodes: 0 })).toThrow(/virtualNodes/);
    const ring = consistentHashStrategy({ shards: ['a', 'b'], virtualNodes: 10, seed: 3 });
    expect(ring.withShards(['a', 'b', 'c']).virtualNodes).toBe(10);
    expect(ring.toSpec()).toEqual({ type: 'consistent', shards: ['a', 'b'], virtualNodes: 10, seed: 3 });
  });

  it('a different seed is a different placement', () => {
    const a = hashStrategy({ shards: shardList(10) });
    const b = hashStrategy({ shards: shardList(10), seed: 1 });
    expect(moved(a, b).length).toBeGreaterThan(sample.length / 2);
  });
});

describe('range strategy', () => {
  const ranges = [
    { shard: 's0', from: null, to: 1000 },
    { shard: 's1', from: 1000, to: 5000 },
    { shard: 's2', from: 5000, to: null },
  ];

  it('every key goes to the one range that contains it (coverage, half-open bounds)', () => {
    const strategy = rangeStrategy({ ranges });
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (k) => {
        const expected = k < 1000 ? 's0' : k < 5000 ? 's1' : 's2';
        expect(strategy.shardFor(k)).toBe(expected);
      }),
    );
    expect(strategy.shardFor(999.999)).toBe('s0');
    expect(strategy.shardFor(1000)).toBe('s1');
    expect(strategy.shardFor('5000')).toBe('s2');
  });

  it('random partitions of the line: every key maps to its covering range; gaps are errors', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: -1e6, max: 1e6 }), { minLength: 2, maxLength: 12 }),
        fc.integer({ min: -2e6, max: 2e6 }),
        (cuts, k) => {
          const sorted = [...cuts].sort((a, b) => a - b);
          const list = sorted.slice(0, -1).map((from, i) => ({ shard: `r${i}`, from, to: sorted[i + 1]! }));
          const strategy = rangeStrategy({ ranges: [...list].reverse() });
          const owner = list.find((r) => r.from <= k && k < r.to);
          if (owner) expect(strategy.shardFor(k)).toBe(owner.shard);
          else
            expect(() => strategy.shardFor(k)).toThrow(
              expect.objectContaining({ code: 'NOA_SHARDING_KEY_OUT_OF_RANGE' }),
            );
        },
      ),
    );
  });

  it('split moves only [at, to) to the new shard; merge undoes it', () => {
    const before = rangeStrategy({ ranges });
    const split = before.split(3000, 's3');
    expect(before.shards).toEqual(['s0', 's1', 's2']);
    expect(split.shards).toEqual(['s0', 's1', 's2', 's3']);
    fc.assert(
      fc.property(fc.integer({ min: -10_000, max: 10_000 }), (k) => {
        expect(split.shardFor(k)).toBe(k >= 3000 && k < 5000 ? 's3' : before.shardFor(k));
      }),
    );
    const merged = split.merge(3000);
    fc.assert(
      fc.property(fc.integer({ min: -10_000, max: 10_000 }), (k) => {
        expect(merged.shardFor(k)).toBe(before.shardFor(k));
      }),
    );
    expect(merged.merge(5000, 's2').shardFor(1500)).toBe('s2');
    expect(() => before.split(1000, 's9')).toThrow(/already the start/);
    expect(() => before.merge(1234)).toThrow(/adjacent/);
  });

  it('validates: overlaps, empty ranges, mixed bound types, key types', () => {
    expect(() =>
      rangeStrategy({
        ranges: [
          { shard: 'a', from: 0, to: 10 },
          { shard: 'b', from: 5, to: 20 },
        ],
      }),
    ).toThrow(/overlap/);
    expect(() => rangeStrategy({ ranges: [{ shard: 'a', from: 10, to: 10 }] })).toThrow(/empty/);
    expect(() => rangeStrategy({ ranges: [{ shard: 'a', from: 0, to: 'm' }] })).toThrow(
      /all numbers or all strings/,
    );
    expect(() => rangeStrategy({ ranges: [] })).toThrow(/non-empty/);
    expect(() => rangeStrategy({ ranges }).shardFor('abc')).toThrow(
      expect.objectContaining({ code: 'NOA_SHARDING_INVALID_KEY' }),
    );
    const byName = rangeStrategy({
      ranges: [
        { shard: 'a-m', to: 'n' },
        { shard: 'n-z', from: 'n' },
      ],
    });
    expect(byName.shardFor('mallory')).toBe('a-m');
    expect(byName.shardFor('nina')).toBe('n-z');
    expect(() => byName.shardFor(5)).toThrow(expect.objectContaining({ code: 'NOA_SHARDING_INVALID_KEY' }));
  });

  it('withShards keeps the ranges and refuses to drop a shard that owns one', () => {
    const strategy = rangeStrategy({ ranges });
    const grown = strategy.withShards(['s0', 's1', 's2', 'spare']);
    expect(grown.shards).toContain('spare');
    expect(grown.shardFor(1)).toBe('s0');
    expect(() => strategy.withShards(['s0', 's1'])).toThrow(
      expect.objectContaining({ code: 'NOA_SHARDING_SHARD_IN_USE' }),
    );
    expect(createStrategy(grown.toSpec()).shards).toEqual(grown.shards);
    expect(strategy.withRanges([{ shard: 'x', from: 0 }]).shardFor(10)).toBe('x');
  });
});

describe('geo strategy', () => {
  const regions = { eu: ['eu-0', 'eu-1'], us: ['us-0', 'us-1', 'us-2'] };

  it('keeps keys inside their region, placed by the inner strategy', () => {
    fc.assert(
      fc.property(fc.constantFrom('eu', 'us'), key, (region, id) => {
        const geo = geoStrategy({ regions, inner: { type: 'consistent', virtualNodes: 32 } });
        const shard = geo.shardFor({ region, id });
        expect(regions[region]).toContain(shard);
        expect(shard).toBe(
          consistentHashStrategy({ shards: regions[region], virtualNodes: 32 }).shardFor(id),
        );
      }),
    );
  });

  it('unknown regions are an error unless a default region is set; withShards is immutable', () => {
    const geo = geoStrategy({ regions });
    expect(() => geo.shardFor({ region: 'apac', id: 1 })).toThrow(
      expect.objectContaining({ code: 'NOA_SHARDING_UNKNOWN_REGION' }),
    );
    expect(() => geo.shardFor('x' as never)).toThrow(
      expect.objectContaining({ code: 'NOA_SHARDING_INVALID_KEY' }),
    );
    const withDefault = geoStrategy({ regions, defaultRegion: 'us' });
    expect(regions.us).toContain(withDefault.shardFor({ region: 'apac', id: 1 }));
    const grown = geo.withShards({ ...regions, apac: ['ap-0'] });
    expect(grown.shardFor({ region: 'apac', id: 1 })).toBe('ap-0');
    expect(() => geo.shardFor({ region: 'apac', id: 1 })).toThrow();
    expect(grown.shards).toEqual(['eu-0', 'eu-1', 'us-0', 'us-1', 'us-2', 'ap-0']);
    expect(() => geoStrategy({ regions, defaultRegion: 'mars' })).toThrow(/defaultRegion/);
    expect(() => geoStrategy({ regions, inner: 'modulo' as never })).toThrow(/unknown/);
    expect(createStrategy(grown.toSpec()).shardFor({ region: 'us', id: 'k' } as never)).toBe(
      grown.shardFor({ region: 'us', id: 'k' }),
    );
  });
});

it('createStrategy rejects unknown types', () => {
  expect(() => createStrategy({ type: 'modulo' } as never)).toThrow(
    expect.objectContaining({ code: 'NOA_SHARDING_UNKNOWN_STRATEGY' }),
  );
});
