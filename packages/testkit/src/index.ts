export { type CompareOptions, type CompareResult, compare } from './bench/compare.js';
export {
  type BenchFn,
  type Measurement,
  type MeasureOptions,
  measure,
  median,
  percentile,
} from './bench/measure.js';
export { type BenchResultsFile, writeBenchResults } from './bench/results.js';
export { type BenchTable, formatDuration, formatNumber, renderMarkdown, renderText } from './bench/table.js';
export { uniqueName } from './names.js';
export { freePort, RedisServerProcess } from './processes.js';
export {
  hostPort,
  isReachable,
  requireService,
  type ServiceInfo,
  type ServiceName,
  type ServiceStatus,
  services,
  serviceUrl,
} from './services.js';
export { sleep, type WaitOptions, waitUntil } from './wait.js';
