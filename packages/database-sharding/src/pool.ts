import { NoaError } from '@noa/core';

export type ShardRole = 'read' | 'write';

/**
 * The smallest pool a shard needs: `query(sql, params, { role })`. `@noa/connection-pool` pools
 * fit as they are (they route `role: 'read'` to their replicas). pg's `Pool`/`Client`, mysql2 pools
 * (callback or promise API) and PGlite are recognised by their shape and called their own way.
 */
export interface ShardPool {
  query(sql: string, params?: unknown[], options?: { role?: ShardRole }): Promise<unknown>;
}

/**
 * mysql2's callback-API pool (`mysql.createPool`), described by shape so mysql2 stays an optional
 * peer dependency. The router calls it through its `promise()` wrapper.
 */
export interface MysqlCallbackPool {
  promise(): unknown;
  getConnection(...args: never[]): unknown;
  query(...args: never[]): unknown;
}

/** One database connection pool a shard can use. */
export type ShardConnection = ShardPool | MysqlCallbackPool;

/** A shard's pools: one pool, or a primary with read replicas (plain pg/mysql2 pools, for example). */
export type ShardTarget =
  | ShardConnection
  | { primary: ShardConnection; replicas?: readonly ShardConnection[] };

export type SqlDialect = 'postgres' | 'mysql';

/** Rows of one shard, with the columns the driver reported as numeric (for exact merging). */
export interface ShardRows<Row = Record<string, unknown>> {
  rows: Row[];
  /** Rows returned, or affected by an INSERT/UPDATE/DELETE. */
  rowCount: number;
  /** Columns typed numeric/decimal/bigint by the database, whose values may arrive as strings. */
  numericColumns?: ReadonlySet<string>;
}

/**
 * A pool behind a uniform call, whatever its library: `send` returns the driver's own promise (no
 * extra async layer on the hot path) and `read` turns its result into rows.
 */
export interface PoolAdapter {
  readonly dialect: SqlDialect | undefined;
  send(sql: string, params: readonly unknown[] | undefined, role: ShardRole): Promise<unknown>;
  /** `types`: also report which columns are numeric (for merging; skipped on the single-shard path). */
  read(result: unknown, types?: boolean): ShardRows;
  /** Ends the pool (`end()` or `close()`), for pools the router created itself. */
  end(): Promise<void>;
}

/** Sends and reads in one call, for callers off the hot path. */
export async function runOn(
  pool: PoolAdapter,
  sql: string,
  params: readonly unknown[] | undefined,
  role: ShardRole,
) {
  return pool.read(await pool.send(sql, params, role));
}

type AnyPool = Record<string, unknown> & ShardPool;

// PostgreSQL type OIDs whose values pg/PGlite may return as strings: int8, numeric, money, oid.
const PG_NUMERIC = new Set([20, 21, 23, 26, 700, 701, 790, 1700]);
// mysql2 column types: DECIMAL, TINY, SHORT, LONG, FLOAT, DOUBLE, LONGLONG, INT24, NEWDECIMAL.
const MYSQL_NUMERIC = new Set([0, 1, 2, 3, 4, 5, 8, 9, 246]);

function numericColumns(fields: unknown, dialect: SqlDialect): Set<string> | undefined {
  if (!Array.isArray(fields)) return undefined;
  const out = new Set<string>();
  for (const field of fields as {
    name?: string;
    dataTypeID?: number;
    columnType?: number;
    type?: number;
  }[]) {
    if (!field?.name) continue;
    const numeric =
      dialect === 'postgres'
        ? PG_NUMERIC.has(field.dataTypeID ?? -1)
        : MYSQL_NUMERIC.has(field.columnType ?? field.type ?? -1);
    if (numeric) out.add(field.name);
  }
  return out;
}

/** pg, PGlite and @noa/connection-pool results: `{ rows, rowCount | affectedRows, fields }`. */
function fromRowsResult(result: unknown, dialect: SqlDialect, types = true): ShardRows {
  const r = result as { rows?: unknown; rowCount?: unknown; affectedRows?: unknown; fields?: unknown };
  const rows = Array.isArray(r?.rows) ? (r.rows as Record<string, unknown>[]) : [];
  const rowCount =
    typeof r?.rowCount === 'number'
      ? r.rowCount
      : rows.length > 0
        ? rows.length
        : typeof r?.affectedRows === 'number'
          ? r.affectedRows
          : 0;
  return types ? { rows, rowCount, numericColumns: numericColumns(r?.fields, dialect) } : { rows, rowCount };
}

/** mysql2 results: `[rows, fields]` for a SELECT, `[ResultSetHeader, undefined]` for a write. */
function fromMysqlResult(result: unknown, types = true): ShardRows {
  const [first, fields] = result as [unknown, unknown];
  if (Array.isArray(first)) {
    const rows = first as Record<string, unknown>[];
    return types
      ? { rows, rowCount: rows.length, numericColumns: numericColumns(fields, 'mysql') }
      : { rows, rowCount: rows.length };
  }
  const header = first as { affectedRows?: number } | undefined;
  return { rows: [], rowCount: header?.affectedRows ?? 0 };
}

function ender(pool: AnyPool): () => Promise<void> {
  return async () => {
    if (typeof pool.end === 'function') await (pool.end as () => Promise<void>)();
    else if (typeof pool.close === 'function') await (pool.close as () => Promise<void>)();
  };
}

/** Recognises the pool's library by shape and adapts it. */
export function adaptPool(pool: unknown, dialect?: SqlDialect): PoolAdapter {
  const p = pool as AnyPool;
  if (!p || typeof p.query !== 'function') {
    throw new NoaError(
      'NOA_INVALID_OPTION',
      'A shard pool must have a query(sql, params) method: pass a pg Pool, a mysql2 pool, a PGlite instance or a @noa/connection-pool pool.',
    );
  }
  const end = ender(p);
  // mysql2's callback pool: use its promise wrapper.
  if (typeof p.promise === 'function' && typeof p.getConnection === 'function') {
    const promised = (p.promise as () => AnyPool)();
    return {
      dialect: 'mysql',
      send: (sql, params) => promised.query(sql, params as unknown[]),
      read: fromMysqlResult,
      end,
    };
  }
  // mysql2's promise pool (it wraps the callback pool in `.pool`).
  if (typeof p.getConnection === 'function' && p.pool && typeof p.pool === 'object') {
    return {
      dialect: 'mysql',
      send: (sql, params) => p.query(sql, params as unknown[]),
      read: fromMysqlResult,
      end,
    };
  }
  // pg's Pool and Client and PGlite take (sql, values[, callback|options]): never pass a role to them.
  if ('idleCount' in p || typeof p.escapeIdentifier === 'function' || typeof p.waitReady === 'object') {
    return {
      dialect: 'postgres',
      send: (sql, params) => p.query(sql, params as unknown[]),
      read: (result, types) => fromRowsResult(result, 'postgres', types),
      end,
    };
  }
  // Anything else follows the ShardPool contract (a @noa/connection-pool pool).
  const assumed = dialect ?? 'postgres';
  return {
    dialect,
    send: (sql, params, role) => p.query(sql, params as unknown[], { role }),
    read: (result, types) =>
      Array.isArray(result) ? fromMysqlResult(result, types) : fromRowsResult(result, assumed, types),
    end,
  };
}
