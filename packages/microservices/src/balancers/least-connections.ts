import type { Balancer } from '../balancer.js';

/** The instance with the fewest requests in flight from this client; ties go to a random one of them. */
export function leastConnections(rnd: () => number): Balancer {
  const inflight = new Map<string, number>();
  return {
    name: 'least-connections',
    pick(instances) {
      // Start the scan at a random offset so ties do not always pick the first instance.
      const offset = Math.floor(rnd() * instances.length);
      let best = instances[offset]!;
      let bestLoad = inflight.get(best.id) ?? 0;
      for (let i = 1; i < instances.length && bestLoad > 0; i++) {
        const candidate = instances[(offset + i) % instances.length]!;
        const load = inflight.get(candidate.id) ?? 0;
        if (load < bestLoad) {
          best = candidate;
          bestLoad = load;
        }
      }
      return best;
    },
    onStart: (instance) => void inflight.set(instance.id, (inflight.get(instance.id) ?? 0) + 1),
    onEnd: (instance) => void inflight.set(instance.id, Math.max(0, (inflight.get(instance.id) ?? 1) - 1)),
    retain(ids) {
      for (const id of inflight.keys()) if (!ids.has(id)) inflight.delete(id);
    },
  };
}
