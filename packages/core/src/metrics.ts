export type Labels = Record<string, string | number>;

export interface Counter {
  inc(value?: number, labels?: Labels): void;
}

export interface Gauge {
  set(value: number, labels?: Labels): void;
  inc(value?: number, labels?: Labels): void;
  dec(value?: number, labels?: Labels): void;
}

export interface Histogram {
  observe(value: number, labels?: Labels): void;
}

export interface MetricOptions {
  /** snake_case, without the prefix the adapter adds. */
  name: string;
  help: string;
  labelNames?: string[];
}

export interface HistogramOptions extends MetricOptions {
  /** Upper bounds; durations are recorded in seconds as Prometheus advises. */
  buckets?: number[];
}

/**
 * Where Noa components report metrics. Adapters: `prometheusMetrics()` from
 * `@noa/core/prometheus`, `createMemoryMetrics()` for tests, `noopMetrics` (the default).
 */
export interface Metrics {
  counter(options: MetricOptions): Counter;
  gauge(options: MetricOptions): Gauge;
  histogram(options: HistogramOptions): Histogram;
}

const noop = () => {};
const noopInstrument = { inc: noop, dec: noop, set: noop, observe: noop };

export const noopMetrics: Metrics = Object.freeze({
  counter: () => noopInstrument,
  gauge: () => noopInstrument,
  histogram: () => noopInstrument,
});

export interface MemoryMetrics extends Metrics {
  /** Current value of a counter or gauge, or the observations of a histogram, for the given labels. */
  value(name: string, labels?: Labels): number | undefined;
  observations(name: string, labels?: Labels): number[];
}

const seriesKey = (name: string, labels: Labels = {}) =>
  `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',')}}`;

/** Metrics kept in memory, for tests and for components that want to read their own numbers. */
export function createMemoryMetrics(): MemoryMetrics {
  const values = new Map<string, number>();
  const observed = new Map<string, number[]>();
  const add = (name: string, delta: number, labels?: Labels) => {
    const key = seriesKey(name, labels);
    values.set(key, (values.get(key) ?? 0) + delta);
  };
  return {
    counter: ({ name }) => ({ inc: (value = 1, labels) => add(name, value, labels) }),
    gauge: ({ name }) => ({
      set: (value, labels) => values.set(seriesKey(name, labels), value),
      inc: (value = 1, labels) => add(name, value, labels),
      dec: (value = 1, labels) => add(name, -value, labels),
    }),
    histogram: ({ name }) => ({
      observe: (value, labels) => {
        const key = seriesKey(name, labels);
        const list = observed.get(key);
        if (list) list.push(value);
        else observed.set(key, [value]);
      },
    }),
    value: (name, labels) => values.get(seriesKey(name, labels)),
    observations: (name, labels) => observed.get(seriesKey(name, labels)) ?? [],
  };
}
