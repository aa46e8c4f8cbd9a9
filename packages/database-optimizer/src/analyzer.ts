import {
  invariant,
  type Logger,
  type Metrics,
  NoaError,
  noopLogger,
  noopMetrics,
  TypedEventEmitter,
} from '@noa/core';
import type { QueryAdapter } from './adapter.js';
import { type Finding, type FindingOptions, findPlanIssues } from './findings.js';
import { type QueryShape, queryShape } from './fingerprint.js';
import { instrument, type QueryObservation } from './internal/instrument.js';
import { isParserLoaded, loadParser } from './internal/parsers.js';
import { redactMessage, redactParams } from './internal/redact.js';
import type { N1Capture, N1Detector } from './n1-detector.js';
import type { PlanNode } from './plan.js';

export interface ExplainOptions {
  /** Execute the statement to get real row counts and timings (default false). */
  analyze?: boolean;
  /**
   * Allow `analyze` on a statement that writes. It then runs inside a transaction that is rolled
   * back; without this flag such a call throws `NOA_DBOPT_WRITE_NOT_ALLOWED`.
   */
  allowWrites?: boolean;
}

export interface ExplainReport {
  /** The normalised plan tree, the same shape for every database. */
  plan: PlanNode;
  /** Planning plus execution time in ms (analyze only). */
  totalMs?: number;
  /** Rows returned (actual with analyze, else the estimate). */
  rows?: number;
  findings: Finding[];
  /** Fingerprint of the statement. */
  fingerprint: string;
  /** The database's EXPLAIN output, untouched. */
  raw: unknown;
}

export interface SlowQuery {
  fingerprint: string;
  /** The statement with constants replaced by placeholders (or as issued, with `redactParams: false`). */
  sql: string;
  durationMs: number;
  /** Parameters, redacted to their types unless `redactParams: false`. */
  params: readonly unknown[];
  at: Date;
  error?: string;
  /** The plan, when this occurrence was sampled for capture. */
  plan?: PlanNode;
  findings?: Finding[];
}

export interface QueryStats {
  fingerprint: string;
  sql: string;
  calls: number;
  totalMs: number;
  maxMs: number;
  slowCalls: number;
}

export type AnalyzerEvents = {
  /** A statement took at least `slowQueryMs`. */
  slowQuery: [query: SlowQuery];
  /** A slow statement's plan was captured. */
  plan: [query: SlowQuery];
  error: [error: unknown];
};

export interface QueryAnalyzerOptions<Query = string> extends FindingOptions {
  adapter: QueryAdapter<Query>;
  /** Statements at least this slow are captured (default 100 ms). */
  slowQueryMs?: number;
  /** Detector that wrapped pools report statements to, for N+1 detection. */
  n1?: N1Detector;
  /** Keep parameters out of slow-query records and logs (default true). */
  redactParams?: boolean;
  /** Share of slow statements whose plan is fetched (default 1: every one, within the bounds below). */
  planSampleRate?: number;
  /** At most one plan per fingerprint per this many ms (default 60 000). */
  planIntervalMs?: number;
  /** At most this many plans fetched per minute overall (default 10). */
  maxPlansPerMinute?: number;
  /** Slow queries kept in memory (default 100). */
  maxSlowQueries?: number;
  /** Fingerprints kept in `stats()` (default 1 000; the least recently seen are dropped). */
  maxFingerprints?: number;
  logger?: Logger;
  metrics?: Metrics;
}

export interface QueryAnalyzer<Query = string> {
  explain(query: Query, params?: readonly unknown[], options?: ExplainOptions): Promise<ExplainReport>;
  /** The same pool (a proxy of it), with slow-query capture and N+1 detection on every statement. */
  wrap<T extends object>(pool: T): T;
  /** Recent slow queries, oldest first. */
  slowQueries(): SlowQuery[];
  /** Per-fingerprint statistics of wrapped statements, slowest total first. */
  stats(): QueryStats[];
  on<E extends keyof AnalyzerEvents>(event: E, listener: (...args: AnalyzerEvents[E]) => void): this;
  off<E extends keyof AnalyzerEvents>(event: E, listener: (...args: AnalyzerEvents[E]) => void): this;
  /** Waits for plan captures in flight; wrapped pools keep working but stop recording. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

class Analyzer<Query> extends TypedEventEmitter<AnalyzerEvents> implements QueryAnalyzer<Query> {
  readonly #adapter: QueryAdapter<Query>;
  readonly #options: QueryAnalyzerOptions<Query>;
  readonly #slowMs: number;
  readonly #slow: SlowQuery[] = [];
  readonly #stats = new Map<string, QueryStats>();
  readonly #lastPlanAt = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #logger: Logger;
  readonly #durations;
  readonly #slowCounter;
  #planWindowStart = 0;
  #plansInWindow = 0;
  #closed = false;

  constructor(options: QueryAnalyzerOptions<Query>) {
    super();
    invariant(
      options && typeof options.adapter?.explain === 'function',
      'createQueryAnalyzer: pass { adapter }',
    );
    const slowMs = options.slowQueryMs ?? 100;
    invariant(
      slowMs >= 0 && Number.isFinite(slowMs),
      'createQueryAnalyzer: slowQueryMs must be a finite number >= 0',
    );
    const rate = options.planSampleRate ?? 1;
    invariant(rate >= 0 && rate <= 1, 'createQueryAnalyzer: planSampleRate must be between 0 and 1');
    this.#adapter = options.adapter;
    this.#options = options;
    this.#slowMs = slowMs;
    this.#logger = options.logger ?? noopLogger;
    const metrics = options.metrics ?? noopMetrics;
    this.#durations = metrics.histogram({
      name: 'dbopt_query_duration_seconds',
      help: 'Duration of statements issued through wrapped pools',
    });
    this.#slowCounter = metrics.counter({
      name: 'dbopt_slow_queries_total',
      help: 'Statements slower than slowQueryMs',
    });
    if (options.adapter.dialect === 'postgres') void loadParser().catch(() => {});
  }

  async explain(
    query: Query,
    params: readonly unknown[] = [],
    options: ExplainOptions = {},
  ): Promise<ExplainReport> {
    invariant(
      Array.isArray(params),
      'explain(query, params): params must be an array',
      'NOA_DBOPT_INVALID_PARAMS',
    );
    const analyze = options.analyze ?? false;
    if (analyze && !options.allowWrites && this.#adapter.isWrite(query)) {
      throw new NoaError(
        'NOA_DBOPT_WRITE_NOT_ALLOWED',
        'explain(..., { analyze: true }) would execute a statement that writes. Pass allowWrites: true to run it inside a transaction that is rolled back.',
      );
    }
    const out = await this.#adapter.explain(query, params, { analyze });
    const report: ExplainReport = {
      plan: out.plan,
      findings: findPlanIssues(out.plan, this.#options),
      fingerprint: (await this.#shape(this.#adapter.describe(query))).fingerprint,
      raw: out.raw,
    };
    if (out.totalMs !== undefined) report.totalMs = out.totalMs;
    if (out.rows !== undefined) report.rows = out.rows;
    return report;
  }

  async #shape(sql: string): Promise<QueryShape> {
    const dialect = this.#adapter.dialect;
    if (dialect === 'mongodb')
      return {
        fingerprint: queryShape(sql, { dialect: 'mysql' }).fingerprint,
        normalized: sql,
        method: 'tokens',
      };
    if (dialect === 'postgres' && !isParserLoaded()) await loadParser();
    return queryShape(sql, { dialect });
  }

  wrap<T extends object>(pool: T): T {
    invariant(pool && typeof pool === 'object', 'wrap(pool): pass a pg/mysql2 pool or client');
    invariant(
      this.#adapter.dialect !== 'mongodb',
      'wrap(pool) instruments SQL clients (pg, mysql2, PGlite)',
      'NOA_DBOPT_UNSUPPORTED',
    );
    const n1 = this.#options.n1;
    return instrument(pool, {
      onStart: () => n1?.capture(),
      onEnd: (observation, started) => {
        if (this.#closed) return;
        const complete = (shape: QueryShape) =>
          this.#observe(observation, shape, started as N1Capture | undefined);
        const dialect = this.#adapter.dialect as 'postgres' | 'mysql';
        if (dialect === 'postgres' && !isParserLoaded()) {
          loadParser().then(
            () => complete(queryShape(observation.sql, { dialect })),
            (e) => this.emit('error', e),
          );
        } else {
          complete(queryShape(observation.sql, { dialect }));
        }
      },
    });
  }

  #observe(observation: QueryObservation, shape: QueryShape, capture: N1Capture | undefined) {
    if (capture) this.#options.n1?.commit(capture, observation.sql, shape, observation.params);
    const { durationMs } = observation;
    this.#durations.observe(durationMs / 1000);
    const stats = this.#stats.get(shape.fingerprint);
    const slow = durationMs >= this.#slowMs;
    if (stats) {
      stats.calls++;
      stats.totalMs += durationMs;
      if (durationMs > stats.maxMs) stats.maxMs = durationMs;
      if (slow) stats.slowCalls++;
      // Re-insert so the map's order is least recently seen first.
      this.#stats.delete(shape.fingerprint);
      this.#stats.set(shape.fingerprint, stats);
    } else {
      const redact = this.#options.redactParams ?? true;
      this.#stats.set(shape.fingerprint, {
        fingerprint: shape.fingerprint,
        sql: redact ? shape.normalized : observation.sql,
        calls: 1,
        totalMs: durationMs,
        maxMs: durationMs,
        slowCalls: slow ? 1 : 0,
      });
      if (this.#stats.size > (this.#options.maxFingerprints ?? 1_000)) {
        this.#stats.delete(this.#stats.keys().next().value as string);
      }
    }
    if (slow) this.#recordSlow(observation, shape);
  }

  #recordSlow(observation: QueryObservation, shape: QueryShape) {
    const redact = this.#options.redactParams ?? true;
    const record: SlowQuery = {
      fingerprint: shape.fingerprint,
      sql: redact ? shape.normalized : observation.sql,
      durationMs: observation.durationMs,
      params: redact ? redactParams(observation.params) : [...(observation.params ?? [])],
      at: new Date(),
    };
    if (observation.error) {
      const message = (observation.error as Error).message ?? String(observation.error);
      record.error = redact ? redactMessage(message, observation.sql, observation.params) : message;
    }
    this.#slow.push(record);
    if (this.#slow.length > (this.#options.maxSlowQueries ?? 100)) this.#slow.shift();
    this.#slowCounter.inc();
    this.#logger.warn(
      { slowQuery: { ...record } },
      `slow query (${observation.durationMs.toFixed(1)} ms): ${record.sql}`,
    );
    this.emit('slowQuery', record);
    if (!observation.error && this.#shouldCapturePlan(shape.fingerprint)) {
      const capture = this.#adapter
        .explain(observation.sql as Query, observation.params ?? [], { analyze: false })
        .then((out) => {
          record.plan = out.plan;
          record.findings = findPlanIssues(out.plan, this.#options);
          this.emit('plan', record);
        })
        .catch((error) => {
          this.#logger.debug({ err: error }, 'could not capture the plan of a slow query');
          this.emit('error', error);
        })
        .finally(() => this.#inFlight.delete(capture));
      this.#inFlight.add(capture);
    }
  }

  /** Sampled and bounded: one plan per fingerprint per interval, a global per-minute cap, one at a time. */
  #shouldCapturePlan(fingerprint: string): boolean {
    if (this.#inFlight.size > 0) return false;
    const rate = this.#options.planSampleRate ?? 1;
    if (rate < 1 && Math.random() >= rate) return false;
    const now = Date.now();
    const last = this.#lastPlanAt.get(fingerprint);
    if (last !== undefined && now - last < (this.#options.planIntervalMs ?? 60_000)) return false;
    if (now - this.#planWindowStart >= 60_000) {
      this.#planWindowStart = now;
      this.#plansInWindow = 0;
    }
    if (this.#plansInWindow >= (this.#options.maxPlansPerMinute ?? 10)) return false;
    this.#plansInWindow++;
    this.#lastPlanAt.set(fingerprint, now);
    if (this.#lastPlanAt.size > 10_000)
      this.#lastPlanAt.delete(this.#lastPlanAt.keys().next().value as string);
    return true;
  }

  slowQueries(): SlowQuery[] {
    return [...this.#slow];
  }

  stats(): QueryStats[] {
    return [...this.#stats.values()].map((s) => ({ ...s })).sort((a, b) => b.totalMs - a.totalMs);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Creates an analyzer: EXPLAIN with findings, and `wrap(pool)` for slow-query and N+1 capture. */
export function createQueryAnalyzer<Query = string>(
  options: QueryAnalyzerOptions<Query>,
): QueryAnalyzer<Query> {
  return new Analyzer(options);
}
