import type { Counter, Histogram, Labels, Metrics } from '@noa/core';

/** The cache's instruments, created once; label objects are prebuilt so the hot path allocates nothing. */
export class CacheMetrics {
  readonly hits: Counter;
  readonly misses: Counter;
  readonly staleServed: Counter;
  readonly errors: Counter;
  readonly loaderSeconds: Histogram;
  readonly tierLabels: Labels[];
  readonly labels: Labels;
  readonly loadOk: Labels;
  readonly loadFailed: Labels;

  constructor(metrics: Metrics, namespace: string, tierNames: string[]) {
    this.hits = metrics.counter({
      name: 'cache_hits_total',
      help: 'Reads answered with a fresh value, by tier',
      labelNames: ['namespace', 'tier'],
    });
    this.misses = metrics.counter({
      name: 'cache_misses_total',
      help: 'Reads a tier could not answer, by tier',
      labelNames: ['namespace', 'tier'],
    });
    this.staleServed = metrics.counter({
      name: 'cache_stale_served_total',
      help: 'Stale values served because the loader failed or was too slow',
      labelNames: ['namespace'],
    });
    this.errors = metrics.counter({
      name: 'cache_errors_total',
      help: 'Failures answered without an exception (tier down, loader failed with stale value, purge failed)',
      labelNames: ['namespace', 'operation'],
    });
    this.loaderSeconds = metrics.histogram({
      name: 'cache_loader_duration_seconds',
      help: 'Loader latency',
      labelNames: ['namespace', 'outcome'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    });
    this.labels = { namespace };
    this.tierLabels = tierNames.map((tier) => ({ namespace, tier }));
    this.loadOk = { namespace, outcome: 'ok' };
    this.loadFailed = { namespace, outcome: 'error' };
  }
}
