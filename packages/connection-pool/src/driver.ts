/** The role a node plays in the cluster. Roles can change: a replica may be promoted. */
export type NodeRole = 'primary' | 'replica';

/** One server a driver can connect to. */
export interface NodeConfig {
  /** Stable id used in stats and events, e.g. `127.0.0.1:5433/test`. */
  id: string;
  /** The role the node starts with. */
  role: NodeRole;
  /** Whether the node may become the primary when the current one is gone (failover candidate). */
  candidate: boolean;
  /** Relative share of reads under the `weighted` balancer (default 1). */
  weight: number;
}

/** What a node says about itself, measured on the server by the health check. */
export interface NodeState {
  /** Takes writes (a primary), as opposed to a read-only replica. */
  writable: boolean;
  /** Replication lag in ms as the server reports it (0 on a primary; Infinity when replication is broken). */
  lagMs: number;
  /** Replication position (LSN, GTID, offset) for read-your-writes; undefined when unknown. */
  position?: string;
}

export interface DriverQueryOptions {
  /** Use a prepared statement cached on the connection (PostgreSQL named statements, mysql2 execute). */
  prepare: boolean;
}

/** One open connection, as the pool sees it. */
export interface DriverConnection<Statement = unknown, Params = unknown, Result = unknown, Client = unknown> {
  query(statement: Statement, params: Params | undefined, options: DriverQueryOptions): Promise<Result>;
  /** A cheap round trip, for validation on borrow. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** True once the connection saw a fatal error: the pool destroys it instead of reusing it. */
  readonly broken: boolean;
  /** The native client (pg.Client, mysql2 Connection, ioredis Redis, MongoClient). */
  readonly client: Client;
}

/**
 * The small interface each backend implements in one file under src/drivers/. Everything about
 * routing, pooling and failover lives in the pool; a driver only talks to its server.
 */
export interface PoolDriver<Conn extends DriverConnection = DriverConnection> {
  readonly name: string;
  readonly nodes: readonly NodeConfig[];
  connect(nodeId: string, context: { applicationName: string }): Promise<Conn>;
  begin(connection: Conn): Promise<void>;
  commit(connection: Conn): Promise<void>;
  rollback(connection: Conn): Promise<void>;
  /** Role, lag and position as the server reports them. */
  inspect(connection: Conn): Promise<NodeState>;
  /** The position a replica must reach to see every write committed so far (asked of the primary). */
  currentPosition?(connection: Conn): Promise<string | undefined>;
  /** Whether `position` (a replica's) includes `target`. */
  positionReached?(position: string, target: string): boolean;
  /** Waits on a replica until it has applied `target`; false after `timeoutMs`. */
  waitForPosition?(connection: Conn, target: string, timeoutMs: number): Promise<boolean>;
}

/** The rows of a SQL query, the same shape for PostgreSQL and MySQL. */
export interface SqlResult<Row = Record<string, unknown>> {
  rows: Row[];
  /** Rows returned, or affected by a write (null for commands without a count). */
  rowCount: number | null;
  /** MySQL: the id of an inserted row. */
  insertId?: number;
}

export type DriverStatement<D> = D extends PoolDriver<DriverConnection<infer S, any, any, any>> ? S : never;
export type DriverParams<D> = D extends PoolDriver<DriverConnection<any, infer P, any, any>> ? P : never;
export type DriverResult<D> = D extends PoolDriver<DriverConnection<any, any, infer R, any>> ? R : never;
export type DriverClient<D> = D extends PoolDriver<DriverConnection<any, any, any, infer C>> ? C : never;
