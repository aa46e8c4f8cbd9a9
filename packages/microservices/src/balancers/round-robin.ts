import type { Balancer } from '../balancer.js';

const noop = () => {};

/** Each instance in turn. The counter survives list changes, so no instance is favoured after one. */
export function roundRobin(): Balancer {
  let next = 0;
  return {
    name: 'round-robin',
    pick(instances) {
      const instance = instances[next % instances.length]!;
      next = (next + 1) % 0x7fffffff;
      return instance;
    },
    onStart: noop,
    onEnd: noop,
  };
}
