import * as prom from 'prom-client';
import type {
  Counter,
  Gauge,
  Histogram,
  HistogramOptions,
  Labels,
  MetricOptions,
  Metrics,
} from './metrics.js';

export interface PrometheusMetricsOptions {
  /** Where metrics are registered. Default: prom-client's global registry. */
  registry?: prom.Registry;
  /** Prepended to every metric name. Default 'noa_'. */
  prefix?: string;
}

/**
 * Metrics through prom-client. Asking twice for the same name returns the registered metric, so
 * several components (or several instances of one) can share a series without a duplicate-name error.
 */
export function prometheusMetrics({
  registry = prom.register,
  prefix = 'noa_',
}: PrometheusMetricsOptions = {}): Metrics {
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  const config = (options: MetricOptions) => ({
    name: prefix + options.name,
    help: options.help,
    labelNames: options.labelNames ?? [],
    registers: [registry],
  });
  const withLabels = (labels?: Labels) => (labels ?? {}) as prom.LabelValues<string>;
  return {
    counter(options): Counter {
      const c = existing<prom.Counter>(prefix + options.name) ?? new prom.Counter(config(options));
      return { inc: (value = 1, labels) => c.inc(withLabels(labels), value) };
    },
    gauge(options): Gauge {
      const g = existing<prom.Gauge>(prefix + options.name) ?? new prom.Gauge(config(options));
      return {
        set: (value, labels) => g.set(withLabels(labels), value),
        inc: (value = 1, labels) => g.inc(withLabels(labels), value),
        dec: (value = 1, labels) => g.dec(withLabels(labels), value),
      };
    },
    histogram(options: HistogramOptions): Histogram {
      const h =
        existing<prom.Histogram>(prefix + options.name) ??
        new prom.Histogram({ ...config(options), ...(options.buckets ? { buckets: options.buckets } : {}) });
      return { observe: (value, labels) => h.observe(withLabels(labels), value) };
    },
  };
}
