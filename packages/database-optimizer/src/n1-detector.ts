import { AsyncLocalStorage } from 'node:async_hooks';
import { findSourceMap } from 'node:module';
import { invariant, type Logger, noopLogger } from '@noa/core';
import { type FingerprintOptions, type QueryShape, queryShape } from './fingerprint.js';
import { isParserLoaded, loadParser } from './internal/parsers.js';

/** One N+1 pattern found in a unit of work. */
export interface N1Report {
  /** Label of the unit of work (`GET /orders` for middleware, or what you passed to `run`). */
  scope: string;
  fingerprint: string;
  /** The statement with its constants replaced by placeholders. */
  sql: string;
  /** How many times the statement ran from this call site, with different parameters. */
  count: number;
  /** The first frame of your code that issued the queries (`file:line:column`). */
  callSite: string;
  /** Your code's frames at the call site, innermost first. */
  stack: string[];
}

export interface N1DetectorOptions {
  /**
   * Report when one call site issues the same statement with this many different parameter sets
   * in one unit of work (default 2, like Prosopite).
   */
  threshold?: number;
  /** Called once per pattern when a unit of work ends. */
  onDetect?: (report: N1Report) => void;
  /** Dialect used for fingerprints of recorded SQL (default `postgres`). */
  dialect?: FingerprintOptions['dialect'];
  /** Statements to ignore (for example, queries your ORM batches on purpose). */
  ignore?: (sql: string) => boolean;
  /** Stack frames kept to tell call sites apart (default 8). */
  stackDepth?: number;
  logger?: Logger;
}

/** A query issued inside a scope, captured synchronously at call time. */
export interface N1Capture {
  scope: N1Scope;
  holder: { stack?: unknown };
}

interface Frame {
  fn: string;
  file: string;
  line: number;
  column: number;
}

interface SiteBucket {
  frames: Frame[];
  instances: Set<string>;
  shape: QueryShape;
}

interface FingerprintBucket {
  /** Captures whose stacks are not formatted yet: most statements run once per scope. */
  pending: { holder: { stack?: unknown }; instance: string }[];
  sites: Map<string, SiteBucket>;
  shape: QueryShape;
}

export interface N1Scope {
  label: string;
  byFingerprint: Map<string, FingerprintBucket>;
  ended: boolean;
}

type Next = (error?: unknown) => void;

export interface N1Detector {
  /** Runs `fn` as one unit of work and reports N+1 patterns when it settles. */
  run<T>(fn: () => T | Promise<T>, options?: { label?: string }): Promise<T>;
  /** Express/Connect middleware: one unit of work per request. */
  middleware(): (req: { method?: string; url?: string }, res: NodeJS.EventEmitter, next: Next) => void;
  /** Fastify plugin (register it with `app.register(n1.fastify)`): one unit of work per request. */
  readonly fastify: (instance: FastifyLike, options: unknown, done: (error?: Error) => void) => void;
  /** Records a statement issued by your own integration (the analyzer's `wrap` calls this for you). */
  record(sql: string, params?: readonly unknown[]): void;
  /** Captures the call site of a statement now; `commit` it once its shape is known. */
  capture(): N1Capture | undefined;
  commit(capture: N1Capture, sql: string, shape: QueryShape, params?: readonly unknown[]): void;
  /** N+1 patterns reported so far. */
  readonly detections: number;
}

export interface FastifyLike {
  addHook(name: string, hook: (...args: any[]) => void): unknown;
}

const OWN_FILES = /[\\/](database-optimizer[\\/](src|dist)|node_modules)[\\/]|^node:|^internal[\\/]/;
const structured = (_error: Error, sites: NodeJS.CallSite[]) => sites;

/**
 * Your code's frames, innermost first. The stack is read as V8's structured call sites through a
 * temporary `prepareStackTrace`: formatting it as text (with source maps) costs several times more.
 */
function userFrames(holder: { stack?: unknown }, depth: number): Frame[] {
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = structured;
  let sites: unknown;
  try {
    sites = holder.stack;
  } finally {
    Error.prepareStackTrace = previous;
  }
  const frames: Frame[] = [];
  if (!Array.isArray(sites)) return frames;
  for (const site of sites as NodeJS.CallSite[]) {
    const file = site.getFileName();
    if (!file || OWN_FILES.test(file)) continue;
    frames.push({
      fn: site.getFunctionName() ?? '<anonymous>',
      file,
      line: site.getLineNumber() ?? 0,
      column: site.getColumnNumber() ?? 0,
    });
    if (frames.length >= depth) break;
  }
  return frames;
}

/** `fn (file:line:column)`, in your source's coordinates when the process has its source maps. */
function formatFrame(frame: Frame): string {
  let { file, line, column } = frame;
  try {
    const entry = findSourceMap(file)?.findEntry(line - 1, column - 1) as
      | { originalSource?: string; originalLine?: number; originalColumn?: number }
      | undefined;
    if (entry?.originalSource) {
      file = entry.originalSource;
      line = (entry.originalLine ?? 0) + 1;
      column = (entry.originalColumn ?? 0) + 1;
    }
  } catch {
    // No source map: the generated position is the real one.
  }
  return `${frame.fn} (${file}:${line}:${column})`;
}

const instanceKey = (sql: string, params?: readonly unknown[]) => {
  if (!params || params.length === 0) return sql;
  try {
    return `${sql}\u0000${JSON.stringify(params, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`;
  } catch {
    return `${sql}\u0000${params.map(String).join('\u0001')}`;
  }
};

/**
 * Finds N+1 queries the way Prosopite does: inside one unit of work (a request, a job), the same
 * statement shape issued from the same call stack with different parameters, `threshold` times
 * or more. A loop of different statements, one batched statement, the same statement from
 * different call sites, or the same statement repeated with the same parameters is not reported.
 */
export function createN1Detector(options: N1DetectorOptions = {}): N1Detector {
  const threshold = options.threshold ?? 2;
  invariant(
    Number.isInteger(threshold) && threshold >= 2,
    'createN1Detector: threshold must be an integer >= 2',
  );
  const depth = options.stackDepth ?? 8;
  invariant(Number.isInteger(depth) && depth >= 1, 'createN1Detector: stackDepth must be a positive integer');
  const dialect = options.dialect ?? 'postgres';
  const logger = options.logger ?? noopLogger;
  const als = new AsyncLocalStorage<N1Scope>();
  let detections = 0;
  if (dialect === 'postgres') void loadParser().catch(() => {});

  const newScope = (label: string): N1Scope => ({ label, byFingerprint: new Map(), ended: false });

  function addToSite(bucket: FingerprintBucket, holder: { stack?: unknown }, instance: string) {
    const frames = userFrames(holder, depth);
    // A loop's first iteration runs synchronously and later ones resume after an await: V8 then
    // points the outer frames at the await instead of the call, on the same line. Lines decide.
    const key = frames.map((f) => `${f.fn} ${f.file}:${f.line}`).join('\n');
    let site = bucket.sites.get(key);
    if (!site) {
      site = { frames, instances: new Set(), shape: bucket.shape };
      bucket.sites.set(key, site);
    }
    // Bounded: a unit of work that runs away must not grow this set without end.
    if (site.instances.size < 10_000) site.instances.add(instance);
  }

  function end(scope: N1Scope) {
    if (scope.ended) return;
    scope.ended = true;
    for (const [fp, bucket] of scope.byFingerprint) {
      for (const site of bucket.sites.values()) {
        if (site.instances.size < threshold) continue;
        detections++;
        const stack = site.frames.map(formatFrame);
        const report: N1Report = {
          scope: scope.label,
          fingerprint: fp,
          sql: site.shape.normalized,
          count: site.instances.size,
          callSite: stack[0]?.replace(/^.*\((.*)\)$/, '$1') ?? 'unknown',
          stack,
        };
        logger.warn({ n1: report }, `N+1 query: ${report.count}× ${report.sql} at ${report.callSite}`);
        try {
          options.onDetect?.(report);
        } catch (error) {
          logger.error({ err: error }, 'N+1 onDetect callback threw');
        }
      }
    }
    scope.byFingerprint.clear();
  }

  function capture(): N1Capture | undefined {
    const scope = als.getStore();
    if (!scope || scope.ended) return undefined;
    const holder: { stack?: unknown } = {};
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = depth + 4; // our own two frames, plus a little slack
    // Formatting the stack is the expensive part; V8 does it lazily when `.stack` is first read.
    Error.captureStackTrace(holder, capture);
    Error.stackTraceLimit = limit;
    return { scope, holder };
  }

  function commit({ scope, holder }: N1Capture, sql: string, shape: QueryShape, params?: readonly unknown[]) {
    if (scope.ended || options.ignore?.(sql)) return;
    const instance = instanceKey(sql, params);
    const bucket = scope.byFingerprint.get(shape.fingerprint);
    if (!bucket) {
      scope.byFingerprint.set(shape.fingerprint, {
        pending: [{ holder, instance }],
        sites: new Map(),
        shape,
      });
      return;
    }
    for (const p of bucket.pending) addToSite(bucket, p.holder, p.instance);
    bucket.pending.length = 0;
    addToSite(bucket, holder, instance);
  }

  const detector: N1Detector = {
    async run(fn, runOptions = {}) {
      if (dialect === 'postgres' && !isParserLoaded()) await loadParser();
      const scope = newScope(runOptions.label ?? 'run');
      try {
        return await als.run(scope, fn);
      } finally {
        end(scope);
      }
    },

    middleware() {
      return (req, res, next) => {
        const scope = newScope(`${req.method ?? ''} ${req.url ?? ''}`.trim());
        const finish = () => end(scope);
        res.once('finish', finish);
        res.once('close', finish);
        const start = () => als.run(scope, () => next());
        if (dialect === 'postgres' && !isParserLoaded()) loadParser().then(start, next);
        else start();
      };
    },

    fastify: Object.assign(
      (instance: FastifyLike, _options: unknown, done: (error?: Error) => void) => {
        const scopes = new WeakMap<object, N1Scope>();
        instance.addHook(
          'onRequest',
          (req: { method?: string; url?: string }, _reply: unknown, next: Next) => {
            const scope = newScope(`${req.method ?? ''} ${req.url ?? ''}`.trim());
            scopes.set(req, scope);
            const start = () => als.run(scope, () => next());
            if (dialect === 'postgres' && !isParserLoaded()) loadParser().then(start, next);
            else start();
          },
        );
        instance.addHook('onResponse', (req: object, _reply: unknown, next: Next) => {
          const scope = scopes.get(req);
          if (scope) end(scope);
          next();
        });
        done();
      },
      // Registered at the root, not encapsulated (what fastify-plugin does).
      { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'noa-n1-detector' },
    ),

    record(sql, params) {
      const captured = capture();
      if (captured) commit(captured, sql, queryShape(sql, { dialect }), params);
    },

    capture,
    commit,

    get detections() {
      return detections;
    },
  };
  return detector;
}
