import { NoaError } from '@noa/core';
import { leastConnections } from './balancers/least-connections.js';
import { type P2cEwmaOptions, p2cEwma } from './balancers/p2c-ewma.js';
import { random } from './balancers/random.js';
import { roundRobin } from './balancers/round-robin.js';
import { weighted } from './balancers/weighted.js';
import type { ServiceInstance } from './instance.js';

/**
 * Chooses the instance for the next request. `onStart`/`onEnd` let load-aware balancers track
 * requests in flight and latency; the client calls them around every attempt.
 */
export interface Balancer {
  readonly name: string;
  /** One of `instances`, which is never empty. */
  pick(instances: readonly ServiceInstance[]): ServiceInstance;
  onStart(instance: ServiceInstance): void;
  onEnd(instance: ServiceInstance, latencyMs: number): void;
  /** Forgets state of instances that left (called when the list changes). */
  retain?(ids: ReadonlySet<string>): void;
}

export type BalancerName = 'round-robin' | 'random' | 'least-connections' | 'weighted' | 'p2c-ewma';

export interface BalancerOptions {
  /** Random source in [0, 1), for tests. Default Math.random. */
  random?: () => number;
  /** p2c-ewma's tuning. */
  ewma?: P2cEwmaOptions;
}

/** A balancer by name, or the one you pass. */
export function createBalancer(
  balancer: BalancerName | Balancer = 'round-robin',
  options: BalancerOptions = {},
): Balancer {
  if (typeof balancer === 'object' && balancer && typeof balancer.pick === 'function') return balancer;
  const rnd = options.random ?? Math.random;
  switch (balancer) {
    case 'round-robin':
      return roundRobin();
    case 'random':
      return random(rnd);
    case 'least-connections':
      return leastConnections(rnd);
    case 'weighted':
      return weighted();
    case 'p2c-ewma':
      return p2cEwma({ random: rnd, ...options.ewma });
    default:
      throw new NoaError(
        'NOA_SERVICE_INVALID_BALANCER',
        `unknown balancer ${JSON.stringify(balancer)}; use round-robin, random, least-connections, weighted or p2c-ewma`,
      );
  }
}
