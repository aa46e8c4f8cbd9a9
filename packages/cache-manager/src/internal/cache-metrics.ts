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
    const counter = (name: string, help: string, label?: string) =>
      metrics.counter({ name, help, labelNames: label ? ['namespace', label] : ['namespace'] });
    this.hits = counter('cache_hits_total', 'Reads answered with a fresh value, by tier', 'tier');
    this.misses = counter('cache_misses_total', 'Reads a tier could not answer, by tier', 'tier');
    this.staleServed = counter(
      'cache_stale_served_total',
      'Stale values served because the loader failed or was too slow',
    );
    this.errors = counter(
      'cache_errors_total',
      'Failures answered without an exception (tier down, loader failed with stale value, purge failed)',
      'operation',
    );
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
