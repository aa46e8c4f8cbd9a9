import {
  invariant,
  type Logger,
  type Metrics,
  NoaError,
  noopLogger,
  noopMetrics,
  TypedEventEmitter,
  withTimeout,
} from '@noa/core';
import type { ShardKey } from './hash.js';
import { mapLimit } from './internal/map-limit.js';
import type { ShardInfo, ShardManager, ShardMapSnapshot } from './manager.js';
import { type MergeOptions, mergeShardRows } from './merge.js';
import {
  adaptPool,
  type PoolAdapter,
  type ShardRole,
  type ShardRows,
  type ShardTarget,
  type SqlDialect,
} from './pool.js';
import type { ShardStrategy } from './strategy.js';

type Row = Record<string, unknown>;
type Strategy<K> = ShardStrategy<K, any>;

export interface ShardRouterOptions<K = ShardKey> {
  /** How keys map to shards. Give this, or `manager` to follow a shard map stored in a database. */
  strategy?: Strategy<K>;
  /** Follow the shard map of this manager: load it on first use, switch on every new version. */
  manager?: ShardManager;
  /** The pools of each shard, by shard id. */
  shards?: Readonly<Record<string, ShardTarget>>;
  /**
   * Creates the pools of a shard that `shards` lacks (a shard added to the map later, say), from
   * the information published with it. The router ends pools it created when it closes.
   */
  connect?: (shard: string, info: ShardInfo) => ShardTarget;
  /** At most this many shards are queried at once by queryAll (default 16). */
  concurrency?: number;
  /** Per-shard query timeout; a timed-out shard fails with NOA_TIMEOUT (the query is not cancelled). */
  timeoutMs?: number;
  /** Dialect of pools that are not recognised by shape (default 'postgres'); only affects type hints. */
  dialect?: SqlDialect;
  logger?: Logger;
  metrics?: Metrics;
}

export interface RouteOptions {
  /** 'read' may use a replica (fallback: the primary); 'write' (the default) always uses the primary. */
  role?: ShardRole;
}

export interface ShardQueryResult<R = Row> {
  rows: R[];
  rowCount: number;
  /** The shard that answered. */
  shard: string;
}

export interface ShardFailure {
  shard: string;
  error: unknown;
}

export interface QueryAllOptions<R = Row> extends MergeOptions<R>, RouteOptions {
  /** Return the rows of the shards that answered instead of failing (`partial` and `failures` tell). */
  allowPartial?: boolean;
  /** Overrides the router's concurrency for this call. */
  concurrency?: number;
  /** Query only these shards (default: every shard of the strategy). */
  shards?: readonly string[];
}

export interface QueryAllResult<R = Row> {
  rows: R[];
  /** The shards queried. */
  shards: string[];
  failures: ShardFailure[];
  /** Whether some shards failed and their rows are missing (only with allowPartial). */
  partial: boolean;
}

export type ShardRouterEvents = {
  /** The router switched to a new shard-map version. */
  reload: [version: number];
  /** A shard query failed (for reads from a replica, before the primary is tried). */
  'shard-error': [shard: string, error: unknown, role: ShardRole];
  /** A new shard-map version could not be used (a shard without pools); the previous one stays. */
  error: [error: unknown];
};

/** A failed cross-shard query: which shard (the first failure) and every failure. */
export class ShardQueryError extends NoaError {
  readonly shard: string;
  readonly failures: ShardFailure[];

  constructor(failures: ShardFailure[], total: number) {
    const first = failures[0]!;
    const reason = first.error instanceof Error ? first.error.message : String(first.error);
    super(
      'NOA_SHARDING_SHARD_FAILED',
      `Shard "${first.shard}" failed: ${reason}${failures.length > 1 ? ` (and ${failures.length - 1} more of ${total} shards)` : ''}. Fix or remove the shard, or pass allowPartial: true to accept partial results.`,
      { cause: first.error },
    );
    this.shard = first.shard;
    this.failures = failures;
  }
}

interface ShardPools {
  primary: PoolAdapter;
  replicas: PoolAdapter[];
  /** Round-robin position among the replicas. */
  next: number;
  /** Metric labels, built once per shard. */
  ok: { shard: string; outcome: 'ok' };
  failed: { shard: string; outcome: 'error' };
}

export interface ShardRouter<K = ShardKey> extends TypedEventEmitter<ShardRouterEvents> {
  /** The strategy in use (undefined until a manager-backed router loaded its map). */
  readonly strategy: Strategy<K> | undefined;
  /** The shard-map version in use, for manager-backed routers. */
  readonly version: number | undefined;
  /** Resolves when the strategy is known (immediately unless a manager must load the map). */
  ready(): Promise<void>;
  shardFor(key: K): string;
  /** Runs `sql` on the shard that owns `shardKey`. A missing key is NOA_SHARDING_NO_SHARD_KEY. */
  query<R = Row>(
    shardKey: K,
    sql: string,
    params?: readonly unknown[],
    options?: RouteOptions,
  ): Promise<ShardQueryResult<R>>;
  /** Runs `sql` on one shard by id. */
  queryShard<R = Row>(
    shard: string,
    sql: string,
    params?: readonly unknown[],
    options?: RouteOptions,
  ): Promise<ShardQueryResult<R>>;
  /** Runs `sql` on every shard (bounded concurrency) and merges the rows: see MergeOptions. */
  queryAll<R = Row>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryAllOptions<R>,
  ): Promise<QueryAllResult<R>>;
  /** Re-reads the shard map now (manager-backed routers). */
  reload(): Promise<void>;
  /** Waits for in-flight queries, stops following the manager and ends the pools the router created. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

class Router<K> extends TypedEventEmitter<ShardRouterEvents> implements ShardRouter<K> {
  #strategy: Strategy<K> | undefined;
  #version: number | undefined;
  #ready: Promise<void> | undefined;
  readonly #manager: ShardManager | undefined;
  readonly #targets: Readonly<Record<string, ShardTarget>>;
  readonly #connect: ShardRouterOptions<K>['connect'];
  readonly #pools = new Map<string, ShardPools>();
  readonly #owned: PoolAdapter[] = [];
  readonly #concurrency: number;
  readonly #timeoutMs: number | undefined;
  readonly #dialect: SqlDialect | undefined;
  readonly #logger: Logger;
  readonly #queries: ReturnType<Metrics['counter']>;
  /** Queries running on pools; close() waits for them. */
  #active = 0;
  #drained: (() => void) | undefined;
  #unwatch: (() => void) | undefined;
  #closed = false;

  constructor(options: ShardRouterOptions<K>) {
    super();
    invariant(
      options && (options.strategy || options.manager),
      'createShardRouter needs `strategy` or `manager`',
    );
    invariant(
      !(options.strategy && options.manager),
      'give createShardRouter either `strategy` or `manager`, not both',
    );
    invariant(
      options.shards || options.connect,
      'createShardRouter needs `shards` (pools by shard id) or `connect`',
    );
    this.#targets = options.shards ?? {};
    this.#connect = options.connect;
    this.#concurrency = options.concurrency ?? 16;
    invariant(
      Number.isInteger(this.#concurrency) && this.#concurrency >= 1,
      `concurrency must be an integer >= 1`,
    );
    this.#timeoutMs = options.timeoutMs;
    invariant(
      this.#timeoutMs === undefined || (Number.isFinite(this.#timeoutMs) && this.#timeoutMs > 0),
      'timeoutMs must be > 0',
    );
    this.#dialect = options.dialect;
    this.#logger = options.logger ?? noopLogger;
    this.#queries = (options.metrics ?? noopMetrics).counter({
      name: 'sharding_queries_total',
      help: 'Queries sent to shards, by shard and outcome',
      labelNames: ['shard', 'outcome'],
    });
    for (const [id, target] of Object.entries(this.#targets))
      this.#pools.set(id, this.#adapt(id, target, false));
    this.#manager = options.manager;
    if (options.strategy) {
      this.#checkServable(options.strategy, undefined);
      this.#strategy = options.strategy;
    } else {
      const manager = options.manager!;
      this.#unwatch = manager.watch((snapshot) => {
        this.#apply(snapshot);
      });
      if (manager.current) this.#apply(manager.current);
    }
  }

  get strategy(): Strategy<K> | undefined {
    return this.#strategy;
  }

  get version(): number | undefined {
    return this.#version;
  }

  #adapt(id: string, target: ShardTarget, owned: boolean): ShardPools {
    invariant(target && typeof target === 'object', `shard "${id}": pass a pool or { primary, replicas }`);
    const split = 'primary' in target && typeof (target as { query?: unknown }).query !== 'function';
    const primary = adaptPool(split ? (target as { primary: unknown }).primary : target, this.#dialect);
    const replicas = split
      ? ((target as { replicas?: readonly unknown[] }).replicas ?? []).map((r) => adaptPool(r, this.#dialect))
      : [];
    if (owned) this.#owned.push(primary, ...replicas);
    return {
      primary,
      replicas,
      next: 0,
      ok: { shard: id, outcome: 'ok' },
      failed: { shard: id, outcome: 'error' },
    };
  }

  /** Throws unless every shard of the strategy has pools or can get them through `connect`. */
  #checkServable(strategy: Strategy<K>, snapshot: ShardMapSnapshot | undefined) {
    const connect = this.#connect;
    if (!connect) {
      const missing = strategy.shards.filter((s) => !this.#pools.has(s));
      if (missing.length > 0) {
        throw new NoaError(
          'NOA_SHARDING_UNKNOWN_SHARD',
          `No pool for shard${missing.length > 1 ? 's' : ''} ${missing.map((s) => `"${s}"`).join(', ')}; add ${missing.length > 1 ? 'them' : 'it'} to \`shards\` or give \`connect\`.`,
        );
      }
      return;
    }
    for (const shard of strategy.shards) {
      if (!this.#pools.has(shard))
        this.#pools.set(shard, this.#adapt(shard, connect(shard, snapshot?.shards[shard] ?? {}), true));
    }
  }

  /** Switches to a newer map version; returns the error when it cannot be served. */
  #apply(snapshot: ShardMapSnapshot): unknown {
    if (this.#closed || (this.#version !== undefined && snapshot.version <= this.#version)) return undefined;
    try {
      const strategy = snapshot.strategy as Strategy<K>;
      this.#checkServable(strategy, snapshot);
      this.#strategy = strategy;
      this.#version = snapshot.version;
      this.#logger.info(
        { version: snapshot.version, shards: strategy.shards.length },
        'shard router switched map version',
      );
      this.emit('reload', snapshot.version);
      return undefined;
    } catch (error) {
      this.#logger.error(
        { version: snapshot.version, err: error },
        'shard map version cannot be served; keeping the current one',
      );
      this.emit('error', error);
      return error;
    }
  }

  ready(): Promise<void> {
    if (this.#strategy) return Promise.resolve();
    this.#ready ??= this.#manager!.load().then(
      (snapshot) => {
        const error = this.#apply(snapshot);
        if (error && !this.#strategy) throw error;
      },
      (error) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  #assertOpen() {
    if (this.#closed) throw new NoaError('NOA_SHARDING_CLOSED', 'The shard router is closed.');
  }

  #current(): Strategy<K> {
    if (this.#strategy) return this.#strategy;
    throw new NoaError(
      'NOA_SHARDING_NOT_READY',
      'The shard map is not loaded yet; await router.ready() first.',
    );
  }

  shardFor(key: K): string {
    return this.#current().shardFor(key);
  }

  query<R = Row>(
    shardKey: K,
    sql: string,
    params?: readonly unknown[],
    options?: RouteOptions,
  ): Promise<ShardQueryResult<R>> {
    // Not async: the routing step stays synchronous and adds no promise of its own.
    try {
      this.#assertOpen();
      if (shardKey === undefined || shardKey === null) {
        throw new NoaError(
          'NOA_SHARDING_NO_SHARD_KEY',
          'query() needs a shard key to pick the shard; use queryAll() for a query across every shard, or queryShard() for one shard by id.',
        );
      }
      if (typeof sql !== 'string') {
        // query(sql) or query(sql, params): the SQL was passed where the shard key goes.
        throw new NoaError(
          'NOA_SHARDING_NO_SHARD_KEY',
          `query(shardKey, sql, params) got no SQL after the shard key ${JSON.stringify(shardKey)?.slice(0, 80)}: the shard key comes first. Use queryAll() for a query across every shard, or queryShard() for one shard by id.`,
        );
      }
      const role = options?.role ?? 'write';
      if (!this.#strategy)
        return this.ready().then(() => this.#one<R>(this.#current().shardFor(shardKey), sql, params, role));
      return this.#one<R>(this.#strategy.shardFor(shardKey), sql, params, role);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  queryShard<R = Row>(
    shard: string,
    sql: string,
    params?: readonly unknown[],
    options?: RouteOptions,
  ): Promise<ShardQueryResult<R>> {
    try {
      this.#assertOpen();
      return this.#one<R>(shard, sql, params, options?.role ?? 'write');
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async queryAll<R = Row>(
    sql: string,
    params?: readonly unknown[],
    options: QueryAllOptions<R> = {},
  ): Promise<QueryAllResult<R>> {
    this.#assertOpen();
    if (!this.#strategy) await this.ready();
    const shards = [...(options.shards ?? this.#current().shards)];
    const concurrency = options.concurrency ?? this.#concurrency;
    invariant(Number.isInteger(concurrency) && concurrency >= 1, 'concurrency must be an integer >= 1');
    const role = options.role ?? 'write';
    const settled = await mapLimit(
      shards,
      concurrency,
      (shard) => this.#execute(shard, sql, params, role, true),
      !options.allowPartial,
    );
    const failures: ShardFailure[] = [];
    const parts: (ShardRows & { shard: string })[] = [];
    settled.forEach((result, i) => {
      if (!result) return; // never started: an earlier shard failed
      if (result.status === 'fulfilled') parts.push(result.value);
      else failures.push({ shard: shards[i]!, error: result.reason });
    });
    if (failures.length > 0 && !options.allowPartial) throw new ShardQueryError(failures, shards.length);
    const rows = mergeShardRows<R>(parts, options);
    return { rows, shards, failures, partial: failures.length > 0 };
  }

  async reload(): Promise<void> {
    invariant(this.#manager, 'reload() needs a router created with a manager');
    const error = this.#apply(await this.#manager.load());
    if (error) throw error;
  }

  #pool(shard: string): ShardPools {
    const pools = this.#pools.get(shard);
    if (pools) return pools;
    throw new NoaError('NOA_SHARDING_UNKNOWN_SHARD', `No pool for shard "${shard}"; add it to \`shards\`.`);
  }

  #one<R>(
    shard: string,
    sql: string,
    params: readonly unknown[] | undefined,
    role: ShardRole,
  ): Promise<ShardQueryResult<R>> {
    return this.#execute(shard, sql, params, role, false) as Promise<ShardQueryResult<R> & ShardRows>;
  }

  /**
   * Runs on the shard's pools: a replica for reads when there is one, falling back to the primary
   * (reads are safe to repeat). One async function on the hot path, no extra promise layers.
   */
  async #execute(
    shard: string,
    sql: string,
    params: readonly unknown[] | undefined,
    role: ShardRole,
    types: boolean,
  ): Promise<ShardRows & { shard: string }> {
    invariant(typeof sql === 'string' && sql.length > 0, 'sql must be a non-empty string');
    invariant(params === undefined || Array.isArray(params), 'params must be an array');
    const pools = this.#pool(shard);
    let pool =
      role === 'read' && pools.replicas.length > 0
        ? pools.replicas[pools.next++ % pools.replicas.length]!
        : pools.primary;
    this.#active++;
    try {
      for (;;) {
        try {
          const sent = pool.send(sql, params, role);
          const raw = await (this.#timeoutMs === undefined ? sent : withTimeout(sent, this.#timeoutMs));
          this.#queries.inc(1, pools.ok);
          const rows = pool.read(raw, types) as ShardRows & { shard: string };
          rows.shard = shard;
          return rows;
        } catch (error) {
          this.#queries.inc(1, pools.failed);
          this.emit('shard-error', shard, error, role);
          if (pool === pools.primary) throw error;
          this.#logger.warn({ shard, err: error }, 'replica read failed; retrying on the primary');
          pool = pools.primary;
        }
      }
    } finally {
      if (--this.#active === 0) this.#drained?.();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unwatch?.();
    if (this.#active > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    await Promise.allSettled(this.#owned.map((pool) => pool.end()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Routes queries to shards: `query(key, …)` to the shard owning the key, `queryAll(…)` to every
 * shard with the rows merged as one database would return them. Pools passed in stay the caller's.
 */
export function createShardRouter<K = ShardKey>(options: ShardRouterOptions<K>): ShardRouter<K> {
  return new Router<K>(options);
}
