import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { p2cEwma } from '../src/balancers/p2c-ewma.js';
import { createBalancer, type ServiceInstance } from '../src/index.js';

const instance = (id: string, weight = 1): ServiceInstance => ({
  id,
  name: 'svc',
  address: '127.0.0.1',
  port: 1,
  tags: [],
  meta: {},
  weight,
  healthy: true,
});

const countPicks = (picks: ServiceInstance[]) => {
  const counts: Record<string, number> = {};
  for (const p of picks) counts[p.id] = (counts[p.id] ?? 0) + 1;
  return counts;
};

describe('balancers', () => {
  const list = ['a', 'b', 'c'].map((id) => instance(id));

  it('round-robin visits each instance in turn', () => {
    const b = createBalancer('round-robin');
    expect(Array.from({ length: 6 }, () => b.pick(list).id).join('')).toBe('abcabc');
  });

  it('random stays within the list and covers it', () => {
    const b = createBalancer('random');
    const counts = countPicks(Array.from({ length: 3_000 }, () => b.pick(list)));
    expect(Object.keys(counts).sort()).toEqual(['a', 'b', 'c']);
    for (const n of Object.values(counts)) expect(n).toBeGreaterThan(800);
  });

  it('least-connections prefers the instance with fewer requests in flight', () => {
    const b = createBalancer('least-connections');
    b.onStart(list[0]!);
    b.onStart(list[0]!);
    b.onStart(list[1]!);
    for (let i = 0; i < 20; i++) expect(b.pick(list).id).toBe('c');
    b.onEnd(list[1]!, 1);
    expect(['b', 'c']).toContain(b.pick(list).id);
  });

  it('smooth weighted round-robin interleaves 5:1:1 like nginx', () => {
    const b = createBalancer('weighted');
    const weightedList = [instance('a', 5), instance('b', 1), instance('c', 1)];
    expect(Array.from({ length: 7 }, () => b.pick(weightedList).id).join('')).toBe('aabacaa');
  });

  it('weighted shares are exact over whole cycles (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 5 }),
        (weights, cycles) => {
          const b = createBalancer('weighted');
          const items = weights.map((w, i) => instance(`i${i}`, w));
          const total = weights.reduce((a, w) => a + w, 0);
          const counts = countPicks(Array.from({ length: total * cycles }, () => b.pick(items)));
          items.forEach((item) => {
            expect(counts[item.id]).toBe(item.weight * cycles);
          });
        },
      ),
    );
  });

  it('every balancer picks a member of any non-empty list (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('round-robin', 'random', 'least-connections', 'weighted', 'p2c-ewma' as const),
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 20 }),
        (name, idList) => {
          const b = createBalancer(name);
          const items = idList.map((id) => instance(id));
          for (let i = 0; i < 30; i++) {
            const picked = b.pick(items);
            expect(items).toContain(picked);
            b.onStart(picked);
            b.onEnd(picked, 1);
          }
        },
      ),
    );
  });

  it('p2c-ewma avoids the slow instance until the fast ones are loaded', () => {
    const now = 0;
    const b = p2cEwma({ now: () => now, decayMs: 1_000 });
    const items = ['fast1', 'fast2', 'slow'].map((id) => instance(id));
    for (const item of items) {
      b.onStart(item);
      b.onEnd(item, item.id === 'slow' ? 100 : 1);
    }
    const picks = countPicks(Array.from({ length: 1_000 }, () => b.pick(items)));
    expect(picks.slow ?? 0).toBe(0);
    // cost = latency x (in flight + 1): with the fast ones busy the slow one is worth it again.
    for (let i = 0; i < 200; i++) {
      b.onStart(items[0]!);
      b.onStart(items[1]!);
    }
    const later = countPicks(Array.from({ length: 300 }, () => b.pick(items)));
    expect(later.slow ?? 0).toBeGreaterThan(0);
  });

  it('p2c-ewma reacts to a latency peak at once', () => {
    let now = 0;
    const b = p2cEwma({ now: () => now, decayMs: 10_000 });
    const [x, y] = [instance('x'), instance('y')];
    b.onStart(x);
    b.onEnd(x, 1);
    b.onStart(y);
    b.onEnd(y, 2);
    expect(b.pick([x, y]).id).toBe('x');
    now += 1;
    b.onStart(x);
    b.onEnd(x, 50); // one slow answer: the peak counts immediately
    expect(b.pick([x, y]).id).toBe('y');
  });

  it('rejects an unknown balancer', () => {
    expect(() => createBalancer('fastest' as never)).toThrow(
      expect.objectContaining({ code: 'NOA_SERVICE_INVALID_BALANCER' }),
    );
  });
});
