import type { Counter, Gauge, Metrics } from '@noa/core';
import type { PoolStats } from '../pool.js';

const counted = ['acquired', 'created', 'destroyed', 'timeouts', 'leaks'] as const;

/**
 * Publishes a pool's stats through the `Metrics` interface, once per health-check pass (never on
 * the query path): gauges for the current state, counters advanced by what happened since.
 */
export class PoolMetrics {
  readonly #connections: Gauge;
  readonly #waiting: Gauge;
  readonly #lag: Gauge;
  readonly #up: Gauge;
  readonly #counters: Record<(typeof counted)[number] | 'fallbacks' | 'failovers', Counter>;
  readonly #last = new Map<string, number>();

  constructor(metrics: Metrics) {
    this.#connections = metrics.gauge({
      name: 'pool_connections',
      help: 'Open connections by node and state (idle, active)',
      labelNames: ['node', 'state'],
    });
    this.#waiting = metrics.gauge({
      name: 'pool_waiting',
      help: 'Callers waiting for a connection',
      labelNames: ['node'],
    });
    this.#lag = metrics.gauge({
      name: 'pool_replication_lag_seconds',
      help: 'Replication lag as the server reports it',
      labelNames: ['node'],
    });
    this.#up = metrics.gauge({
      name: 'pool_node_up',
      help: '1 when the node is usable, else 0',
      labelNames: ['node'],
    });
    const counter = (name: string, help: string, labelNames: string[]) =>
      metrics.counter({ name, help, labelNames });
    this.#counters = {
      acquired: counter('pool_acquires_total', 'Connections lent', ['node']),
      created: counter('pool_connections_created_total', 'Connections opened', ['node']),
      destroyed: counter('pool_connections_destroyed_total', 'Connections closed', ['node']),
      timeouts: counter('pool_acquire_timeouts_total', 'Acquires that timed out', ['node']),
      leaks: counter('pool_leaks_total', 'Connections reported as leaked', ['node']),
      fallbacks: counter(
        'pool_read_fallbacks_total',
        'Reads served by the primary for want of a usable replica',
        [],
      ),
      failovers: counter('pool_failovers_total', 'Times the pool followed a new primary', []),
    };
  }

  publish(stats: PoolStats): void {
    for (const [node, s] of Object.entries(stats.nodes)) {
      const labels = { node };
      this.#connections.set(s.idle, { node, state: 'idle' });
      this.#connections.set(s.active, { node, state: 'active' });
      this.#waiting.set(s.waiting, labels);
      this.#lag.set(Number.isFinite(s.lagMs) ? s.lagMs / 1000 : -1, labels);
      this.#up.set(s.health === 'down' ? 0 : 1, labels);
      for (const key of counted) this.#advance(`${key}:${node}`, s[key], this.#counters[key], labels);
    }
    this.#advance('fallbacks', stats.fallbacks, this.#counters.fallbacks);
    this.#advance('failovers', stats.failovers, this.#counters.failovers);
  }

  #advance(key: string, value: number, counter: Counter, labels?: Record<string, string>): void {
    const delta = value - (this.#last.get(key) ?? 0);
    this.#last.set(key, value);
    if (delta > 0) counter.inc(delta, labels);
  }
}
