import type { Balancer } from '../balancer.js';

const noop = () => {};

/** Uniformly random: no shared state, good when many clients balance independently. */
export function random(rnd: () => number): Balancer {
  return {
    name: 'random',
    pick: (instances) => instances[Math.floor(rnd() * instances.length)]!,
    onStart: noop,
    onEnd: noop,
  };
}
