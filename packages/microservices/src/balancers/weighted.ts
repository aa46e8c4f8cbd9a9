import type { Balancer } from '../balancer.js';

const noop = () => {};

/**
 * Smooth weighted round-robin (nginx): every pick adds each instance's weight to its current value,
 * takes the largest and subtracts the total from it. Weights 5:1:1 give a a b a c a a, spread out
 * rather than in bursts, and the shares are exact over every cycle of sum(weights) picks.
 */
export function weighted(): Balancer {
  const current = new Map<string, number>();
  return {
    name: 'weighted',
    pick(instances) {
      let total = 0;
      let best = instances[0]!;
      let bestValue = Number.NEGATIVE_INFINITY;
      for (const instance of instances) {
        const value = (current.get(instance.id) ?? 0) + instance.weight;
        current.set(instance.id, value);
        total += instance.weight;
        if (value > bestValue) {
          best = instance;
          bestValue = value;
        }
      }
      current.set(best.id, bestValue - total);
      return best;
    },
    onStart: noop,
    onEnd: noop,
    retain(ids) {
      for (const id of current.keys()) if (!ids.has(id)) current.delete(id);
    },
  };
}
