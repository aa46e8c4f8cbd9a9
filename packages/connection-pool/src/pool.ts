import {
  createSingleFlight,
  invariant,
  isNoaError,
  type Logger,
  type Metrics,
  NoaError,
  noopLogger,
  TypedEventEmitter,
  withTimeout,
} from '@noa/core';
import { type Balancer, type BalancerName, createBalancer } from './balancer.js';
import type {
  DriverClient,
  DriverConnection,
  DriverParams,
  DriverResult,
  DriverStatement,
  NodeRole,
  PoolDriver,
} from './driver.js';
import { type NodeHealth, type NodePoolOptions, PoolNode } from './internal/node.js';
import { PoolMetrics } from './internal/pool-metrics.js';
import { errorMessage, type Lease, type ResourcePoolStats } from './resource-pool.js';

export type Consistency = 'eventual' | 'causal';

/** Every resource-pool option applies per node; `maxLifetimeMs` defaults to 30 minutes here. */
export interface PoolOptions<D extends PoolDriver<any>> extends NodePoolOptions {
  driver: D;
  /** How reads pick among healthy replicas (default 'round-robin'). */
  balancer?: BalancerName | Balancer;
  /** Replicas lagging more than this (as the server reports it) leave the rotation until they catch up (default 10 000). */
  maxReplicationLagMs?: number;
  /** Default consistency of reads (default 'eventual'). */
  consistency?: Consistency;
  /** How long a causal read waits for a replica to reach the primary's position before reading from the primary (default 1 000). */
  causalWaitMs?: number;
  /** How often every node's health, role and lag are checked (default 1 000). */
  healthCheckIntervalMs?: number;
  /** A health check that takes longer fails (default 2 000). */
  healthCheckTimeoutMs?: number;
  /** Use prepared statements cached per connection by default (default false). */
  prepare?: boolean;
  /** Sent to the server (PostgreSQL application_name, Redis client name, MongoDB appName) (default 'noa-pool'). */
  applicationName?: string;
  logger?: Logger;
  /** Gauges and counters of every node, published after each health-check pass (default: none). */
  metrics?: Metrics;
}

export interface QueryOptions {
  /** 'write' (default) goes to the primary; 'read' goes to a healthy replica when there is one. */
  role?: 'read' | 'write';
  consistency?: Consistency;
  prepare?: boolean;
  signal?: AbortSignal;
  /** Overrides `acquireTimeoutMs`. */
  timeoutMs?: number;
}

export interface PoolAcquireOptions {
  role?: 'read' | 'write';
  consistency?: Consistency;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** A borrowed connection. `release()` it exactly once. */
export interface PoolConnection<D extends PoolDriver<any>> {
  /** The id of the node it belongs to. */
  readonly node: string;
  readonly role: NodeRole;
  /** The native client. */
  readonly client: DriverClient<D>;
  query<R = DriverResult<D>>(
    statement: DriverStatement<D>,
    params?: DriverParams<D>,
    options?: { prepare?: boolean },
  ): Promise<R>;
  release(): void;
  /** Returns it as broken: it is closed instead of reused. */
  destroy(): void;
  [Symbol.dispose](): void;
}

/** The connection a transaction callback runs on (always the primary). */
export type Transaction<D extends PoolDriver<any>> = Pick<PoolConnection<D>, 'node' | 'client' | 'query'>;

export interface NodeStats extends ResourcePoolStats {
  role: NodeRole;
  health: NodeHealth;
  lagMs: number;
  position: string | undefined;
}

export interface PoolStats
  extends Omit<ResourcePoolStats, 'pending' | 'aborted' | 'createFailures' | 'validationFailures'> {
  /** Reads served by the primary because no replica was usable (or a causal read could not wait). */
  fallbacks: number;
  failovers: number;
  nodes: Record<string, NodeStats>;
}

export interface PoolEvents {
  [event: string]: unknown[];
  'node-down': [info: { node: string; error: unknown }];
  'node-up': [info: { node: string }];
  'replica-lagging': [info: { node: string; lagMs: number }];
  'replica-caught-up': [info: { node: string; lagMs: number }];
  failover: [info: { from: string; to: string }];
  leak: [info: { node: string; heldMs: number; stack: string }];
  error: [error: unknown];
}

export interface Pool<D extends PoolDriver<any>> extends TypedEventEmitter<PoolEvents> {
  query<R = DriverResult<D>>(
    statement: DriverStatement<D>,
    params?: DriverParams<D>,
    options?: QueryOptions,
  ): Promise<R>;
  /** Runs `fn` in a transaction on the primary: commit when it resolves, rollback when it throws. */
  transaction<R>(
    fn: (tx: Transaction<D>) => Promise<R>,
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<R>;
  acquire(options?: PoolAcquireOptions): Promise<PoolConnection<D>>;
  stats(): PoolStats;
  /** Runs the health checks of every node now (they also run every `healthCheckIntervalMs`). */
  checkHealth(): Promise<void>;
  /** The id of the current primary. */
  readonly primary: string;
  close(options?: { timeoutMs?: number }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

type AnyConn = DriverConnection<any, any, any, any>;

const PREPARED = Object.freeze({ prepare: true });
const UNPREPARED = Object.freeze({ prepare: false });

interface ConnectionHooks {
  released(node: string, write: boolean, broken: boolean): void;
}

class PooledConnection<D extends PoolDriver<any>> implements PoolConnection<D> {
  readonly node: string;
  readonly role: NodeRole;
  #done = false;
  constructor(
    private readonly lease: Lease<AnyConn>,
    node: PoolNode<AnyConn>,
    private readonly prepareByDefault: boolean,
    private readonly hooks: ConnectionHooks,
    private readonly write: boolean,
  ) {
    this.node = node.id;
    this.role = node.role;
  }
  get client(): DriverClient<D> {
    return this.lease.resource.client as DriverClient<D>;
  }
  get connection(): AnyConn {
    return this.lease.resource;
  }
  query<R>(
    statement: DriverStatement<D>,
    params?: DriverParams<D>,
    options?: { prepare?: boolean },
  ): Promise<R> {
    // Shared option objects: nothing allocated per query on the hot path.
    return this.lease.resource.query(
      statement,
      params,
      (options?.prepare ?? this.prepareByDefault) ? PREPARED : UNPREPARED,
    ) as Promise<R>;
  }
  release(): void {
    if (this.#done) {
      throw new NoaError(
        'NOA_POOL_ALREADY_RELEASED',
        'this connection was already released; release it exactly once',
      );
    }
    this.#done = true;
    const broken = this.lease.resource.broken;
    // A connection that saw a fatal error is closed, never handed to the next caller.
    if (broken) this.lease.destroy();
    else this.lease.release();
    this.hooks.released(this.node, this.write, broken);
  }
  destroy(): void {
    if (this.#done) return;
    this.#done = true;
    this.lease.destroy();
    this.hooks.released(this.node, this.write, true);
  }
  [Symbol.dispose](): void {
    if (!this.#done) this.release();
  }
}

const nonNegative = (value: number, name: string) =>
  invariant(
    typeof value === 'number' && value >= 0 && !Number.isNaN(value),
    `createPool: ${name} must be a number >= 0`,
  );

class PoolImpl<D extends PoolDriver<any>> extends TypedEventEmitter<PoolEvents> implements Pool<D> {
  readonly #driver: PoolDriver<AnyConn>;
  readonly #nodes: PoolNode<AnyConn>[];
  readonly #byId = new Map<string, PoolNode<AnyConn>>();
  readonly #balancer: Balancer;
  readonly #maxLagMs: number;
  readonly #consistency: Consistency;
  readonly #causalWaitMs: number;
  readonly #healthTimeoutMs: number;
  readonly #prepare: boolean;
  readonly #applicationName: string;
  readonly #logger: Logger;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #positionFlight = createSingleFlight();
  readonly #metrics: PoolMetrics | undefined;
  readonly #readAttempts: number;
  #primary: PoolNode<AnyConn>;
  #closing: Promise<void> | undefined;
  /** Writes completed so far, and how many of them the last known primary position covers. */
  #writes = 0;
  #coveredWrites = 0;
  #targetPosition: string | undefined;
  #fallbacks = 0;
  #failovers = 0;

  constructor(options: PoolOptions<D>) {
    super();
    const driver = options?.driver as PoolDriver<AnyConn> | undefined;
    invariant(
      driver && typeof driver.connect === 'function' && Array.isArray(driver.nodes),
      'createPool: driver is required, e.g. postgresDriver({ primary: "postgres://..." }) from @noa/connection-pool/postgres',
    );
    this.#driver = driver;
    this.#maxLagMs = options.maxReplicationLagMs ?? 10_000;
    this.#consistency = options.consistency ?? 'eventual';
    this.#causalWaitMs = options.causalWaitMs ?? 1_000;
    const intervalMs = options.healthCheckIntervalMs ?? 1_000;
    this.#healthTimeoutMs = options.healthCheckTimeoutMs ?? 2_000;
    this.#prepare = options.prepare ?? false;
    this.#applicationName = options.applicationName ?? 'noa-pool';
    this.#logger = options.logger ?? noopLogger;
    this.#metrics = options.metrics ? new PoolMetrics(options.metrics) : undefined;
    this.#readAttempts = (options.max ?? 10) + 1;
    nonNegative(this.#maxLagMs, 'maxReplicationLagMs');
    nonNegative(this.#causalWaitMs, 'causalWaitMs');
    invariant(
      intervalMs > 0 && Number.isFinite(intervalMs),
      'createPool: healthCheckIntervalMs must be a positive number',
    );
    nonNegative(this.#healthTimeoutMs, 'healthCheckTimeoutMs');
    invariant(
      this.#consistency === 'eventual' || this.#consistency === 'causal',
      "createPool: consistency must be 'eventual' or 'causal'",
    );
    this.#balancer = createBalancer(options.balancer);
    const primaries = driver.nodes.filter((node) => node.role === 'primary');
    invariant(
      primaries.length === 1,
      `createPool: the driver must name exactly one primary node, got ${primaries.length}`,
    );

    const nodeOptions = {
      min: options.min,
      max: options.max,
      acquireTimeoutMs: options.acquireTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      maxLifetimeMs: options.maxLifetimeMs ?? 1_800_000,
      validateAfterIdleMs: options.validateAfterIdleMs,
      leakDetectionMs: options.leakDetectionMs,
    };
    this.#nodes = driver.nodes.map((config) => {
      invariant(!this.#byId.has(config.id), `createPool: node ${config.id} is listed twice`);
      const node = new PoolNode(driver, config, this.#applicationName, nodeOptions, this.#logger);
      node.pool.on('leak', (info) =>
        this.emit('leak', { node: node.id, heldMs: info.heldMs, stack: info.stack }),
      );
      node.pool.on('error', (error) => {
        this.emit('error', error);
        void this.#check(node);
      });
      this.#byId.set(node.id, node);
      return node;
    });
    this.#primary = this.#byId.get(primaries[0]!.id)!;
    this.#timer = setInterval(() => void this.checkHealth(), intervalMs).unref();
    void this.checkHealth();
  }

  get primary(): string {
    return this.#primary.id;
  }

  async query<R>(
    statement: DriverStatement<D>,
    params?: DriverParams<D>,
    options?: QueryOptions,
  ): Promise<R> {
    const role = options?.role ?? 'write';
    // A read that loses its connection is retried on a fresh one (each failure discards one dead
    // connection, so a node restart costs at most `max` retries); writes never are (no duplicates).
    const attempts = role === 'read' ? this.#readAttempts : 1;
    for (let attempt = 1; ; attempt++) {
      const connection = await this.#acquire(role, options);
      try {
        return await connection.query<R>(statement, params, options);
      } catch (error) {
        if (attempt >= attempts || !connection.connection.broken) throw error;
      } finally {
        connection.release();
      }
    }
  }

  async transaction<R>(
    fn: (tx: Transaction<D>) => Promise<R>,
    options?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<R> {
    const connection = await this.#acquire('write', options);
    const raw = connection.connection;
    try {
      await this.#driver.begin(raw);
      const result = await fn(connection);
      await this.#driver.commit(raw);
      return result;
    } catch (error) {
      if (!raw.broken) {
        await this.#driver.rollback(raw).catch(() => connection.destroy());
      }
      throw error;
    } finally {
      connection.release();
    }
  }

  acquire(options?: PoolAcquireOptions): Promise<PoolConnection<D>> {
    return this.#acquire(options?.role ?? 'write', options);
  }

  stats(): PoolStats {
    const totals: PoolStats = {
      total: 0,
      idle: 0,
      active: 0,
      waiting: 0,
      acquired: 0,
      created: 0,
      destroyed: 0,
      timeouts: 0,
      leaks: 0,
      fallbacks: this.#fallbacks,
      failovers: this.#failovers,
      nodes: {},
    };
    for (const node of this.#nodes) {
      const s = node.pool.stats();
      totals.total += s.total;
      totals.idle += s.idle;
      totals.active += s.active;
      totals.waiting += s.waiting;
      totals.acquired += s.acquired;
      totals.created += s.created;
      totals.destroyed += s.destroyed;
      totals.timeouts += s.timeouts;
      totals.leaks += s.leaks;
      totals.nodes[node.id] = {
        ...s,
        role: node.role,
        health: node.health,
        lagMs: node.lagMs,
        position: node.position,
      };
    }
    return totals;
  }

  async checkHealth(): Promise<void> {
    if (this.#closing) return;
    // A check already in flight may have started before the caller's change: wait for it, then check again.
    await Promise.all(this.#nodes.map((node) => node.checking));
    await Promise.all(this.#nodes.map((node) => this.#check(node)));
    this.#resolvePrimary();
    this.#metrics?.publish(this.stats());
  }

  close({ timeoutMs }: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer);
      await Promise.all(this.#nodes.map((node) => node.checking));
      await Promise.all(
        this.#nodes.map(async (node) => {
          await node.pool.close({ timeoutMs });
          await node.monitor?.close().catch(() => {});
          node.monitor = undefined;
        }),
      );
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // --- routing -------------------------------------------------------------------------------------

  #acquire(role: 'read' | 'write', options?: PoolAcquireOptions): Promise<PooledConnection<D>> {
    if (this.#closing) {
      return Promise.reject(
        new NoaError('NOA_POOL_CLOSED', 'the pool is closed; create a new pool to query again'),
      );
    }
    if (role === 'write') {
      try {
        return this.#lend(this.#writableNode(), options, true);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    if (role !== 'read')
      return Promise.reject(
        new NoaError('NOA_INVALID_OPTION', `role must be 'read' or 'write', got ${String(role)}`),
      );
    return this.#acquireRead(options);
  }

  async #acquireRead(options?: PoolAcquireOptions): Promise<PooledConnection<D>> {
    const consistency = options?.consistency ?? this.#consistency;
    if (consistency === 'causal' && this.#writes > 0) return this.#acquireCausal(options);
    const replica = this.#pickReplica(undefined);
    if (replica) {
      try {
        return await this.#lend(replica, options, false);
      } catch (error) {
        if (!isConnectFailure(error) && !isNoaError(error, 'NOA_POOL_NODE_DOWN')) throw error;
        // That replica just went away: the health check takes it out; this read goes elsewhere.
      }
    }
    this.#fallbacks += 1;
    return this.#lend(this.#writableNode(), options, false);
  }

  /** Read-your-writes: a replica that has applied every write made through this pool, else the primary. */
  async #acquireCausal(options?: PoolAcquireOptions): Promise<PooledConnection<D>> {
    const driver = this.#driver;
    if (!driver.currentPosition || !driver.waitForPosition) {
      this.#fallbacks += 1;
      return this.#lend(this.#writableNode(), options, false);
    }
    const target = await this.#primaryPosition();
    if (target !== undefined) {
      const ahead = this.#pickReplica(target);
      const replica = ahead ?? this.#pickReplica(undefined);
      if (replica) {
        const connection = await this.#lend(replica, options, false).catch(() => undefined);
        if (connection) {
          if (ahead) return connection;
          const reached = await driver
            .waitForPosition(connection.connection, target, this.#causalWaitMs)
            .catch(() => false);
          if (reached) return connection;
          connection.release();
        }
      }
    }
    this.#fallbacks += 1;
    return this.#lend(this.#writableNode(), options, false);
  }

  /**
   * The primary's position covering every write completed so far. Concurrent callers share one
   * lookup only when no write completed in between: a lookup started earlier may predate their write.
   */
  async #primaryPosition(): Promise<string | undefined> {
    if (this.#coveredWrites === this.#writes && this.#targetPosition !== undefined)
      return this.#targetPosition;
    const writes = this.#writes;
    return this.#positionFlight.do(String(writes), async () => {
      const primary = this.#writableNode();
      const position = await primary.pool.use((connection) => this.#driver.currentPosition!(connection));
      if (writes >= this.#coveredWrites) {
        this.#coveredWrites = writes;
        this.#targetPosition = position;
      }
      return position;
    });
  }

  #pickReplica(target: string | undefined): PoolNode<AnyConn> | undefined {
    let usable = this.#nodes.filter((node) => node.readable);
    if (target !== undefined) {
      const reached = this.#driver.positionReached;
      usable = reached
        ? usable.filter((node) => {
            try {
              return node.position !== undefined && reached(node.position, target);
            } catch {
              return false;
            }
          })
        : [];
    }
    if (usable.length === 0) return undefined;
    return usable.length === 1 ? usable[0] : this.#balancer.pick(usable);
  }

  #writableNode(): PoolNode<AnyConn> {
    const primary = this.#primary;
    if (primary.health === 'down') throw this.#downError(primary);
    return primary;
  }

  /** Why a node that is down cannot lend: NOA_POOL_PRIMARY_UNAVAILABLE for the primary. */
  #downError(node: PoolNode<AnyConn>): NoaError {
    if (node !== this.#primary) {
      return new NoaError('NOA_POOL_NODE_DOWN', `${node.id} is down (${errorMessage(node.lastError)})`, {
        cause: node.lastError,
      });
    }
    return new NoaError(
      'NOA_POOL_PRIMARY_UNAVAILABLE',
      `the primary ${node.id} is down (${errorMessage(node.lastError)}); writes fail until it answers again` +
        (this.#nodes.some((other) => other.config.candidate && other !== node)
          ? ' or a failover candidate is promoted'
          : '; list failover candidates to follow a promoted replica'),
      { cause: node.lastError },
    );
  }

  async #lend(
    node: PoolNode<AnyConn>,
    options: PoolAcquireOptions | undefined,
    write: boolean,
  ): Promise<PooledConnection<D>> {
    let lease: Lease<AnyConn>;
    for (;;) {
      try {
        lease = await node.pool.acquire(options);
      } catch (error) {
        if (isConnectFailure(error)) this.#markDown(node, (error as NoaError).cause ?? error);
        throw error;
      }
      // Checking the broken flag costs nothing; a connection the server killed while idle is never lent.
      if (!lease.resource.broken) break;
      lease.destroy();
    }
    return new PooledConnection<D>(lease, node, this.#prepare, this.#hooks, write);
  }

  readonly #hooks: ConnectionHooks = {
    released: (nodeId, write, broken) => {
      // Any connection borrowed for writing may have written: causal reads must look again.
      if (write) this.#writes += 1;
      // A broken connection may mean a dead node: check it now rather than at the next interval.
      if (broken) void this.#check(this.#byId.get(nodeId)!);
    },
  };

  // --- health ------------------------------------------------------------------------------------

  #check(node: PoolNode<AnyConn>): Promise<void> {
    node.checking ??= this.#inspect(node).finally(() => {
      node.checking = undefined;
    });
    return node.checking;
  }

  async #inspect(node: PoolNode<AnyConn>): Promise<void> {
    if (this.#closing) return;
    try {
      if (!node.monitor || node.monitor.broken) {
        await node.monitor?.close().catch(() => {});
        node.monitor = undefined;
        node.monitor = await withTimeout(
          this.#driver.connect(node.id, { applicationName: `${this.#applicationName}-monitor` }),
          this.#healthTimeoutMs,
        );
        if (this.#closing) {
          await node.monitor.close().catch(() => {});
          node.monitor = undefined;
          return;
        }
      }
      const state = await withTimeout(this.#driver.inspect(node.monitor), this.#healthTimeoutMs);
      node.writable = state.writable;
      node.lagMs = state.lagMs;
      node.position = state.position;
      node.lastError = undefined;
      const lagging = !state.writable && state.lagMs > this.#maxLagMs;
      const before = node.health;
      node.health = lagging ? 'lagging' : 'up';
      if (before === 'down') {
        this.#logger.info({ node: node.id }, 'node is back');
        this.emit('node-up', { node: node.id });
      }
      if (lagging && before !== 'lagging') {
        this.#logger.warn({ node: node.id, lagMs: state.lagMs }, 'replica lags; out of rotation');
        this.emit('replica-lagging', { node: node.id, lagMs: state.lagMs });
      } else if (!lagging && before === 'lagging') {
        this.emit('replica-caught-up', { node: node.id, lagMs: state.lagMs });
      }
    } catch (error) {
      const monitor = node.monitor;
      node.monitor = undefined;
      await monitor?.close().catch(() => {});
      this.#markDown(node, error);
    }
  }

  #markDown(node: PoolNode<AnyConn>, error: unknown): void {
    node.lastError = error;
    if (node.health === 'down') return;
    node.health = 'down';
    // Its connections are suspect: idle ones close now, busy ones when they come back. Callers
    // waiting for one fail now instead of at their timeout (reads among them go elsewhere).
    node.pool.clear();
    node.pool.failWaiters(this.#downError(node));
    this.#logger.warn({ node: node.id, err: error }, 'node is down');
    this.emit('node-down', { node: node.id, error });
  }

  /** Keeps the primary role on a writable node: follows a promoted candidate when the primary is gone or demoted. */
  #resolvePrimary(): void {
    const current = this.#primary;
    if (current.health !== 'down' && current.writable) return;
    const promoted = this.#nodes.find(
      (node) => node !== current && node.config.candidate && node.health !== 'down' && node.writable,
    );
    if (!promoted) return;
    current.role = 'replica';
    current.pool.clear();
    promoted.role = 'primary';
    promoted.health = 'up';
    this.#primary = promoted;
    this.#failovers += 1;
    this.#targetPosition = undefined;
    this.#coveredWrites = -1;
    this.#logger.warn({ from: current.id, to: promoted.id }, 'failover: following the promoted node');
    this.emit('failover', { from: current.id, to: promoted.id });
  }
}

function isConnectFailure(error: unknown): boolean {
  return error instanceof NoaError && error.code === 'NOA_POOL_CREATE_FAILED';
}

/**
 * A pool of connections to a primary and its replicas: writes and transactions on the primary,
 * reads on healthy replicas when asked, lag-aware rotation, read-your-writes, failover.
 */
export function createPool<D extends PoolDriver<any>>(options: PoolOptions<D>): Pool<D> {
  return new PoolImpl(options);
}
