import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createBalancer,
  leastConnectionsBalancer,
  randomBalancer,
  roundRobinBalancer,
  weightedBalancer,
} from '../src/index.js';

const nodesOf = (weights: number[], active: number[] = []) =>
  weights.map((weight, i) => ({ id: `n${i}`, weight, active: active[i] ?? 0 }));

describe('balancers', () => {
  it('property: weighted gives each node exactly its weight over any sum(weights) picks, spread out', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 6 }), (weights) => {
        const balancer = weightedBalancer();
        const nodes = nodesOf(weights);
        const total = weights.reduce((a, b) => a + b, 0);
        for (let cycle = 0; cycle < 3; cycle++) {
          const counts = new Map<string, number>();
          for (let i = 0; i < total; i++) {
            const id = balancer.pick(nodes).id;
            counts.set(id, (counts.get(id) ?? 0) + 1);
          }
          nodes.forEach((node) => {
            expect(counts.get(node.id) ?? 0).toBe(node.weight);
          });
        }
      }),
    );
  });

  it('property: round-robin differs by at most one pick between nodes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 100 }), (n, picks) => {
        const balancer = roundRobinBalancer();
        const nodes = nodesOf(Array(n).fill(1));
        const counts = new Array(n).fill(0);
        for (let i = 0; i < picks; i++) counts[Number(balancer.pick(nodes).id.slice(1))] += 1;
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('property: least-connections always picks a node with the fewest active connections', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(20), { minLength: 1, maxLength: 8 }), (active) => {
        const balancer = leastConnectionsBalancer();
        const nodes = nodesOf(Array(active.length).fill(1), active);
        for (let i = 0; i < 5; i++) expect(balancer.pick(nodes).active).toBe(Math.min(...active));
      }),
    );
  });

  it('random picks with the given source of randomness', () => {
    const nodes = nodesOf([1, 1, 1, 1]);
    expect(randomBalancer(() => 0.99).pick(nodes).id).toBe('n3');
    expect(randomBalancer(() => 0).pick(nodes).id).toBe('n0');
  });

  it('accepts a name or a custom { pick }, rejects anything else', () => {
    const custom = { pick: <N>(nodes: readonly N[]) => nodes[0]! };
    expect(createBalancer(custom)).toBe(custom);
    expect(createBalancer('weighted').pick(nodesOf([1])).id).toBe('n0');
    expect(() => createBalancer('fastest' as never)).toThrowError(
      expect.objectContaining({ code: 'NOA_INVALID_OPTION' }),
    );
  });
});
