import { invariant, NoaError } from '@noa/core';
import type {
  AdapterExplain,
  AdvisorSession,
  IndexAdvisor,
  IndexHandle,
  IndexProof,
  QueryAdapter,
  WorkloadQuery,
} from '../adapter.js';
import { indexName } from '../internal/names.js';
import { isWriteStatement, tokenize } from '../internal/tokens.js';
import { assertSingleStatement, assertSql } from '../internal/validate.js';
import type { PlanNode, PlanNodeKind, ScanAccess } from '../plan.js';

/** The part of a pg `Pool`, `Client`, `PoolClient` or PGlite instance this adapter uses. */
export interface PgQueryable {
  query(text: string, values?: any[]): Promise<{ rows: any[] }>;
}

/** A pg `Pool` (or anything with `connect()` handing out clients with `release()`). */
export interface PgPoolLike extends PgQueryable {
  connect(): Promise<PgQueryable & { release(error?: unknown): void }>;
}

/** A @noa/connection-pool `Pool`: connections are borrowed with `acquire()`. */
export interface PgAcquirePoolLike extends PgQueryable {
  acquire(options?: { role?: 'write' }): Promise<{
    query(text: string, values?: any[], options?: { prepare?: boolean }): Promise<{ rows: any[] }>;
    release(): void;
    destroy(): void;
  }>;
}

export interface PostgresAdapterOptions {
  /**
   * A pg Pool, a pg Client, a @noa/connection-pool Pool, a PGlite instance, or anything with
   * `query(text, values)`.
   */
  pool: PgQueryable;
  /**
   * How index advice is proven. Default `auto`: HypoPG when the extension is installed in the
   * database (or `installHypopg` is set), else `estimated`.
   */
  proof?: IndexProof | 'auto';
  /** Run `CREATE EXTENSION IF NOT EXISTS hypopg` when it is available but not installed. */
  installHypopg?: boolean;
}

const SCANS: Record<string, ScanAccess> = {
  'Seq Scan': 'full',
  'Index Scan': 'index',
  'Index Only Scan': 'index-only',
  'Bitmap Heap Scan': 'bitmap',
  'Tid Scan': 'lookup',
  'Tid Range Scan': 'index',
};
const JOINS: Record<string, PlanNode['joinType']> = {
  'Nested Loop': 'nested-loop',
  'Hash Join': 'hash',
  'Merge Join': 'merge',
};
const KINDS: Record<string, PlanNodeKind> = {
  Sort: 'sort',
  'Incremental Sort': 'sort',
  Aggregate: 'aggregate',
  Group: 'aggregate',
  WindowAgg: 'aggregate',
  Limit: 'limit',
  ModifyTable: 'modify',
  Result: 'projection',
  'Subquery Scan': 'subquery',
  'CTE Scan': 'subquery',
};

type Json = Record<string, any>;

/** Normalises one node of PostgreSQL's `EXPLAIN (FORMAT JSON)` output. */
export function normalizePostgresPlan(p: Json): PlanNode {
  const operation = String(p['Node Type']);
  const access = SCANS[operation];
  const joinType = JOINS[operation];
  const loops = p['Actual Loops'] as number | undefined;
  const removed = (p['Rows Removed by Filter'] ?? 0) + (p['Rows Removed by Join Filter'] ?? 0);
  const node: PlanNode = {
    kind: access ? 'scan' : joinType ? 'join' : (KINDS[operation] ?? 'other'),
    operation,
    children: ((p.Plans ?? []) as Json[]).map(normalizePostgresPlan),
  };
  if (access) node.access = access;
  if (joinType) node.joinType = joinType;
  if (p['Relation Name']) node.table = p['Relation Name'];
  if (p['Index Name']) node.index = p['Index Name'];
  const filter =
    p.Filter ?? p['Index Cond'] ?? p['Recheck Cond'] ?? p['Hash Cond'] ?? p['Join Filter'] ?? p['Merge Cond'];
  if (filter) node.filter = filter;
  if (p['Plan Rows'] !== undefined) node.estimatedRows = p['Plan Rows'];
  if (p['Total Cost'] !== undefined) node.cost = p['Total Cost'];
  if (p['Actual Rows'] !== undefined) {
    node.actualRows = p['Actual Rows'];
    node.loops = loops ?? 1;
    // PostgreSQL prints removed rows per loop, like Actual Rows.
    node.rowsRemovedByFilter = removed * (loops ?? 1);
    node.timeMs = (p['Actual Total Time'] ?? 0) * (loops ?? 1);
  }
  if (p['Sort Key']) node.sortKey = p['Sort Key'];
  if (
    p['Sort Space Type'] === 'Disk' ||
    String(p['Sort Method'] ?? '').startsWith('external') ||
    p['Hash Batches'] > 1
  ) {
    node.spilled = true;
  }
  return node;
}

export const quotePgIdent = (name: string) =>
  name
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');

/** Highest `$n` placeholder in a statement (0 when there is none). */
function placeholderCount(sql: string): number {
  let max = 0;
  for (const t of tokenize(sql))
    if (t.kind === 'param' && t.text.startsWith('$')) max = Math.max(max, Number(t.text.slice(1)));
  return max;
}

/**
 * Takes a client from the pool for our own use. While we hold it, a connection the server kills
 * emits 'error' on the client; that must not crash the host (the failing query reports it), and a
 * client that failed is destroyed rather than returned, since its transaction state is unknown.
 */
async function checkout(pool: PgPoolLike | PgAcquirePoolLike) {
  if (isAcquirePool(pool)) {
    // On the primary, unprepared: our statements must not fill the pool's statement cache.
    const connection = await pool.acquire({ role: 'write' });
    const client: PgQueryable = {
      query: (text, values) => connection.query(text, values, { prepare: false }),
    };
    return {
      client,
      release(failure?: unknown) {
        if (failure instanceof Error) connection.destroy();
        else connection.release();
      },
    };
  }
  const client = await pool.connect();
  const events = client as Partial<Pick<NodeJS.EventEmitter, 'on' | 'off'>>;
  const ignore = () => {};
  events.on?.('error', ignore);
  return {
    client,
    release(failure?: unknown) {
      events.off?.('error', ignore);
      client.release(failure instanceof Error ? failure : undefined);
    },
  };
}

const isAcquirePool = (q: PgQueryable): q is PgAcquirePoolLike =>
  typeof (q as Partial<PgAcquirePoolLike>).acquire === 'function';

/** A pool hands each statement to any free connection: sessions must borrow one. */
const isPool = (q: PgQueryable): q is PgPoolLike | PgAcquirePoolLike =>
  isAcquirePool(q) || (typeof (q as Partial<PgPoolLike>).connect === 'function' && 'totalCount' in q);

/**
 * The PostgreSQL adapter, for node-postgres (`pg`) pools and clients, @noa/connection-pool pools
 * and PGlite: `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` and index advice proven with HypoPG.
 */
export function postgresAdapter(options: PostgresAdapterOptions): QueryAdapter & { advisor: IndexAdvisor } {
  invariant(
    options && typeof options.pool?.query === 'function',
    'postgresAdapter({ pool }): pool must be a pg Pool/Client, a PGlite instance or anything with query(text, values)',
  );
  const db = options.pool;
  // One session at a time on a single connection, so our BEGIN ... ROLLBACK never interleaves.
  let queue: Promise<unknown> = Promise.resolve();

  async function withSession<T>(fn: (session: PgQueryable) => Promise<T>): Promise<T> {
    if (isPool(db)) {
      const { client, release } = await checkout(db);
      let failure: unknown;
      try {
        return await fn(client);
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        release(failure);
      }
    }
    const run = queue.then(() => fn(db));
    queue = run.catch(() => {});
    return run;
  }

  async function explainJson(
    session: PgQueryable,
    sql: string,
    params: readonly unknown[],
    explainOptions: string,
  ): Promise<Json> {
    await assertSingleStatement(sql, 'postgres');
    const count = placeholderCount(sql);
    if (count > 0 && params.length === 0) {
      // Statements from pg_stat_statements carry $n without values: plan them generically, the
      // way PostgreSQL 16's EXPLAIN (GENERIC_PLAN) does, through a prepared statement.
      const name = `noa_explain_${Math.random().toString(36).slice(2, 10)}`;
      await session.query(`PREPARE ${name} AS ${sql}`);
      try {
        await session.query('SET plan_cache_mode = force_generic_plan');
        const nulls = Array.from({ length: count }, () => 'NULL').join(', ');
        const result = await session.query(`EXPLAIN (${explainOptions}) EXECUTE ${name}(${nulls})`);
        return firstPlan(result.rows);
      } finally {
        await session.query('RESET plan_cache_mode').catch(() => {});
        await session.query(`DEALLOCATE ${name}`).catch(() => {});
      }
    }
    const result = await session.query(`EXPLAIN (${explainOptions}) ${sql}`, params as unknown[]);
    return firstPlan(result.rows);
  }

  async function relationRows(session: PgQueryable, tables: string[]): Promise<Map<string, number>> {
    if (tables.length === 0) return new Map();
    const { rows } = await session.query(
      `SELECT relname, max(reltuples)::float8 AS n FROM pg_class WHERE relname = ANY($1) AND relkind IN ('r','p','m') GROUP BY relname`,
      [tables],
    );
    return new Map(rows.map((r) => [r.relname as string, Number(r.n)]));
  }

  async function explain(sql: string, params: readonly unknown[], { analyze }: { analyze: boolean }) {
    assertSql(sql, 'explain(sql)');
    return withSession(async (session): Promise<AdapterExplain> => {
      let top: Json;
      if (analyze) {
        await session.query('BEGIN');
        try {
          top = await explainJson(session, sql, params, 'ANALYZE, BUFFERS, FORMAT JSON');
        } finally {
          await session.query('ROLLBACK');
        }
      } else {
        top = await explainJson(session, sql, params, 'FORMAT JSON');
      }
      const plan = normalizePostgresPlan(top.Plan);
      if (!analyze) {
        // Without ANALYZE a scan's "rows" are after its filter; the table size says how much it reads.
        const scans: PlanNode[] = [];
        const collect = (n: PlanNode) => {
          if (n.kind === 'scan' && n.access === 'full' && n.table) scans.push(n);
          n.children.forEach(collect);
        };
        collect(plan);
        const sizes = await relationRows(session, [...new Set(scans.map((s) => s.table!))]);
        for (const scan of scans) {
          const size = sizes.get(scan.table!);
          if (size !== undefined && size >= 0) scan.rowsExamined = size;
        }
      }
      const out: AdapterExplain = { plan, raw: top, rows: plan.actualRows ?? plan.estimatedRows };
      if (analyze) out.totalMs = (top['Planning Time'] ?? 0) + (top['Execution Time'] ?? 0);
      return out;
    });
  }

  let proofPromise: Promise<IndexProof> | undefined;
  const advisor: IndexAdvisor = {
    proof() {
      proofPromise ??= (async () => {
        if (options.proof && options.proof !== 'auto') return options.proof;
        const installed = await db.query(`SELECT 1 FROM pg_extension WHERE extname = 'hypopg'`);
        if (installed.rows.length > 0) return 'hypopg';
        if (options.installHypopg) {
          const available = await db.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'`);
          if (available.rows.length > 0) {
            await db.query('CREATE EXTENSION IF NOT EXISTS hypopg');
            return 'hypopg';
          }
        }
        return 'estimated';
      })();
      return proofPromise;
    },

    async tableColumns(tables) {
      const { rows } = await db.query(
        `SELECT table_name, array_agg(column_name::text ORDER BY ordinal_position) AS columns
           FROM information_schema.columns
          WHERE table_name = ANY($1) AND table_schema = ANY(current_schemas(false))
          GROUP BY table_name`,
        [tables],
      );
      return new Map(rows.map((r) => [r.table_name as string, r.columns as string[]]));
    },

    async columnSelectivity(table, columns) {
      const { rows } = await db.query(
        `SELECT s.attname, s.n_distinct::float8 AS n_distinct, c.reltuples::float8 AS reltuples
           FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename
          WHERE s.tablename = $1 AND s.attname = ANY($2) AND s.schemaname = ANY(current_schemas(false))`,
        [table, columns],
      );
      const out = new Map<string, number>();
      for (const r of rows) {
        const nd = Number(r.n_distinct);
        // Negative n_distinct is already a share of the rows; positive is a count.
        out.set(r.attname, nd < 0 ? -nd : Math.min(1, nd / Math.max(1, Number(r.reltuples))));
      }
      return out;
    },

    async existingIndexes(table) {
      const { rows } = await db.query(
        `SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
           FROM pg_index i
           JOIN pg_class c ON c.oid = i.indrelid
           CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
          WHERE c.relname = $1 AND c.relnamespace = ANY(SELECT oid FROM pg_namespace WHERE nspname = ANY(current_schemas(false)))
          GROUP BY i.indexrelid`,
        [table],
      );
      return rows.map((r) => r.columns as string[]);
    },

    async openSession() {
      const proof = await advisor.proof();
      const held = isPool(db) ? await checkout(db) : undefined;
      const session: PgQueryable = held?.client ?? db;
      if (proof === 'rollback') {
        try {
          await session.query('BEGIN');
          // PGlite ships with enable_seqscan off, which adds a huge constant to every sequential
          // scan's cost and would make any index look like a 100% win. Only for this transaction.
          await session.query('SET LOCAL enable_seqscan = on');
        } catch (error) {
          await session.query('ROLLBACK').catch(() => {});
          // A connection we borrowed goes back (as broken), or the pool would wait for it forever.
          held?.release(error);
          throw error;
        }
      }
      const handles = new Map<string, string>();
      let closed = false;
      const s: AdvisorSession = {
        async cost(sql, params = []) {
          const top = await explainJson(session, sql, params, 'FORMAT JSON');
          return Number(top.Plan['Total Cost']);
        },
        async addIndex(table, columns): Promise<IndexHandle> {
          const cols = columns.map(quotePgIdent).join(', ');
          if (proof === 'hypopg') {
            const { rows } = await session.query('SELECT indexrelid FROM hypopg_create_index($1)', [
              `CREATE INDEX ON ${quotePgIdent(table)} (${cols})`,
            ]);
            return { table, columns: [...columns], id: String(rows[0].indexrelid) };
          }
          if (proof === 'rollback') {
            const name = `noa_try_${handles.size}_${Math.random().toString(36).slice(2, 8)}`;
            await session.query(`CREATE INDEX ${name} ON ${quotePgIdent(table)} (${cols})`);
            handles.set(name, table);
            return { table, columns: [...columns], id: name };
          }
          throw new NoaError(
            'NOA_DBOPT_CANNOT_PROVE',
            'This database cannot try indexes: install HypoPG (CREATE EXTENSION hypopg) or pass installHypopg: true.',
          );
        },
        async dropIndex(handle) {
          if (proof === 'hypopg') await session.query('SELECT hypopg_drop_index($1)', [Number(handle.id)]);
          else if (proof === 'rollback') await session.query(`DROP INDEX ${handle.id}`);
        },
        async close() {
          if (closed) return;
          closed = true;
          let failure: unknown;
          try {
            if (proof === 'hypopg') await session.query('SELECT hypopg_reset()');
            if (proof === 'rollback') await session.query('ROLLBACK');
          } catch (error) {
            failure = error;
            throw error;
          } finally {
            held?.release(failure);
          }
        },
      };
      return s;
    },

    indexDdl(table, columns) {
      return `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${quotePgIdent(indexName(table, columns, 63))} ON ${quotePgIdent(table)} (${columns.map(quotePgIdent).join(', ')})`;
    },

    async createIndex(ddl) {
      // CONCURRENTLY cannot run inside a transaction block: a plain pool query is its own.
      await db.query(ddl);
    },

    async statsWorkload(limit): Promise<WorkloadQuery[]> {
      const installed = await db.query(`SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'`);
      if (installed.rows.length === 0) {
        throw new NoaError(
          'NOA_DBOPT_NO_PG_STAT_STATEMENTS',
          'pg_stat_statements is not installed in this database: add it to shared_preload_libraries and run CREATE EXTENSION pg_stat_statements, or pass the workload as [{ sql, params, calls }].',
        );
      }
      const { rows } = await db.query(
        `SELECT query, calls::float8 AS calls
           FROM pg_stat_statements
          WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND query ~* '^\\s*(select|with)\\s'
            AND query !~* '(pg_catalog|information_schema|pg_stat_statements|hypopg|EXPLAIN)'
          ORDER BY total_exec_time DESC
          LIMIT $1`,
        [limit],
      );
      return rows.map((r) => ({ sql: r.query as string, calls: Number(r.calls) }));
    },
  };

  return {
    dialect: 'postgres',
    explain,
    isWrite: isWriteStatement,
    describe: (sql) => sql,
    advisor,
  };
}

function firstPlan(rows: any[]): Json {
  const value = rows[0]?.['QUERY PLAN'];
  const parsed = typeof value === 'string' ? JSON.parse(value) : value;
  const top = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!top?.Plan)
    throw new NoaError(
      'NOA_DBOPT_EXPLAIN_FAILED',
      'EXPLAIN returned no plan; is this a PostgreSQL database?',
    );
  return top;
}
