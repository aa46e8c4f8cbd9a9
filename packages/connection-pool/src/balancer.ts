import { invariant } from '@noa/core';

/** What a balancer sees of a node. */
export interface BalancerNode {
  readonly id: string;
  readonly weight: number;
  /** Connections of this node currently lent out. */
  readonly active: number;
}

/** Picks the node a read goes to, among the usable replicas (never an empty list). */
export interface Balancer {
  pick<N extends BalancerNode>(nodes: readonly N[]): N;
}

export type BalancerName = 'round-robin' | 'least-connections' | 'random' | 'weighted';

/** Cycles through the nodes in order. */
export function roundRobinBalancer(): Balancer {
  let next = 0;
  return {
    pick(nodes) {
      next = (next + 1) % 1_000_000_007;
      return nodes[next % nodes.length]!;
    },
  };
}

/** The node with the fewest connections in use; ties go round-robin so equal nodes share the load. */
export function leastConnectionsBalancer(): Balancer {
  let turn = 0;
  return {
    pick(nodes) {
      turn = (turn + 1) % 1_000_000_007;
      let best = nodes[turn % nodes.length]!;
      for (const node of nodes) if (node.active < best.active) best = node;
      return best;
    },
  };
}

export function randomBalancer(random: () => number = Math.random): Balancer {
  return { pick: (nodes) => nodes[Math.floor(random() * nodes.length)]! };
}

/**
 * Smooth weighted round-robin (nginx): over any run of sum(weights) picks each node gets exactly
 * its weight, spread out rather than in bursts.
 */
export function weightedBalancer(): Balancer {
  const current = new Map<string, number>();
  return {
    pick(nodes) {
      let total = 0;
      let best = nodes[0]!;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (const node of nodes) {
        const score = (current.get(node.id) ?? 0) + node.weight;
        current.set(node.id, score);
        total += node.weight;
        if (score > bestScore) {
          bestScore = score;
          best = node;
        }
      }
      current.set(best.id, bestScore - total);
      return best;
    },
  };
}

export function createBalancer(balancer: BalancerName | Balancer = 'round-robin'): Balancer {
  if (typeof balancer === 'object' && balancer !== null && typeof balancer.pick === 'function')
    return balancer;
  switch (balancer) {
    case 'round-robin':
      return roundRobinBalancer();
    case 'least-connections':
      return leastConnectionsBalancer();
    case 'random':
      return randomBalancer();
    case 'weighted':
      return weightedBalancer();
  }
  invariant(
    false,
    `balancer must be 'round-robin', 'least-connections', 'random', 'weighted' or an object with pick(nodes); got ${String(balancer)}`,
  );
}
