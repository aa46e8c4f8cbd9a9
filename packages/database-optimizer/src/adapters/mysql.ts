import { randomBytes } from 'node:crypto';
import { invariant, NoaError } from '@noa/core';
import type {
  AdapterExplain,
  AdvisorSession,
  IndexAdvisor,
  IndexHandle,
  IndexProof,
  QueryAdapter,
} from '../adapter.js';
import { indexName } from '../internal/names.js';
import { isWriteStatement } from '../internal/tokens.js';
import { assertSingleStatement, assertSql } from '../internal/validate.js';
import { type PlanNode, type ScanAccess, totalRows } from '../plan.js';

/** A mysql2 promise connection (`pool.getConnection()`), or anything with the same `query`. */
export interface MysqlConnectionLike {
  query(sql: string, values?: any): Promise<[any, any]>;
}

/** A mysql2 promise pool (`mysql.createPool(...)` from `mysql2/promise`, or `pool.promise()`). */
export interface MysqlPoolLike extends MysqlConnectionLike {
  getConnection(): Promise<MysqlConnectionLike & { release(): void }>;
}

export interface MysqlAdapterOptions {
  /** A mysql2 pool, promise or callback flavour (`mysql2` or `mysql2/promise`). */
  pool: MysqlPoolLike | { promise(): MysqlPoolLike };
  /**
   * How index advice is proven. `scratch-copy` (default) copies the tables a workload reads into a
   * scratch database, tries real indexes there and measures rows read with ANALYZE; `estimated`
   * only ranks candidates.
   */
  proof?: Extract<IndexProof, 'scratch-copy' | 'estimated'>;
  /** Rows copied per table into the scratch database (default 1 000 000). */
  scratchRowLimit?: number;
}

const ACCESS: Record<string, ScanAccess> = {
  ALL: 'full',
  index: 'full', // a full index scan reads every entry
  range: 'index',
  ref: 'index',
  eq_ref: 'index',
  ref_or_null: 'index',
  index_merge: 'index',
  fulltext: 'index',
  const: 'lookup',
  system: 'lookup',
};

type Json = Record<string, any>;

function tableNode(t: Json): PlanNode {
  const accessType = String(t.access_type ?? 'ALL');
  const access = t.using_index || t.using_index_for_group_by ? 'index-only' : (ACCESS[accessType] ?? 'full');
  const node: PlanNode = {
    kind: 'scan',
    operation: accessType,
    access,
    table: t.table_name,
    children: [],
  };
  if (t.key) node.index = t.key;
  const condition = t.attached_condition ?? (Array.isArray(t.ref) ? `ref ${t.ref.join(', ')}` : undefined);
  if (condition) node.filter = condition;
  // MariaDB's `rows` are rows read per scan (before the filter); `filtered` is the % kept.
  const rows = Number(t.rows ?? t.rows_examined_per_scan ?? 0);
  const filtered = Number(t.filtered ?? 100) / 100;
  node.estimatedRows = rows * filtered;
  node.rowsExamined = rows;
  if (t.r_rows !== undefined) {
    const loops = Number(t.r_loops ?? 1);
    const rRows = Number(t.r_rows ?? 0);
    node.loops = loops;
    node.rowsExamined = rRows * loops;
    // An average per loop, unrounded: 0.2 rows over 120 000 loops is 24 000 rows, not none.
    node.actualRows = rRows * (Number(t.r_filtered ?? 100) / 100);
    node.estimatedRows = rows * filtered;
    if (t.r_table_time_ms !== undefined)
      node.timeMs = Number(t.r_table_time_ms) + Number(t.r_other_time_ms ?? 0);
  }
  const nested = t.materialized?.query_block ?? t.derived?.query_block;
  if (nested) node.children.push(normalizeMysqlPlan({ query_block: nested }));
  return node;
}

/** Builds the nodes of one JSON object (a query block, a filesort, a nested loop element...). */
function nodesOf(o: Json): PlanNode[] {
  const out: PlanNode[] = [];
  for (const [key, value] of Object.entries(o)) {
    if (!value || typeof value !== 'object') continue;
    if (key === 'table') out.push(tableNode(value));
    else if (key === 'nested_loop') out.push(nestedLoop(value as Json[]));
    else if (key === 'filesort' || key === 'ordering_operation') {
      const sort: PlanNode = { kind: 'sort', operation: key, children: nodesOf(value) };
      const sortKey = value.sort_key ?? value.sort_key_list;
      if (sortKey) sort.sortKey = String(sortKey).split(', ');
      if (Number(value.r_sort_passes ?? 0) > 0 || value.using_temporary_table === 'disk') sort.spilled = true;
      if (value.r_output_rows !== undefined) sort.actualRows = Number(value.r_output_rows);
      out.push(inheritRows(sort));
    } else if (key === 'block-nl-join') {
      out.push(...nodesOf(value));
    } else if (key === 'subqueries' && Array.isArray(value)) {
      for (const sub of value) out.push({ kind: 'subquery', operation: 'subquery', children: nodesOf(sub) });
    } else if (key === 'query_block') {
      out.push(normalizeMysqlPlan({ query_block: value }));
    } else if (typeof value === 'object' && !Array.isArray(value)) {
      const children = nodesOf(value);
      if (children.length === 0) continue;
      const node: PlanNode = { kind: 'other', operation: key, children };
      // read_sorted_file and friends report the rows they passed on.
      if (value.r_rows !== undefined) node.actualRows = Number(value.r_rows);
      out.push(inheritRows(node));
    }
  }
  return out;
}

/** MariaDB lists joined tables in order: the first is the outer input of the next, and so on. */
function nestedLoop(items: Json[]): PlanNode {
  let current: PlanNode | undefined;
  for (const item of items) {
    const [node] = nodesOf(item);
    if (!node) continue;
    if (!current) {
      current = node;
      continue;
    }
    const block = 'block-nl-join' in item;
    const outer = current;
    current = {
      kind: 'join',
      operation: block ? 'Block Nested Loop' : 'Nested Loop',
      joinType: block ? 'block-nested-loop' : 'nested-loop',
      estimatedRows: (current.estimatedRows ?? 1) * (node.estimatedRows ?? 1),
      children: [current, node],
    };
    if (block && item['block-nl-join'].attached_condition)
      current.filter = item['block-nl-join'].attached_condition;
    // Rows the join produced: the inner side's rows over all its loops, or, for a block join,
    // every outer row against the inner rows, kept by the join buffer's condition.
    const outerRows = totalRows(outer);
    if (node.actualRows !== undefined && outerRows !== undefined && outer.actualRows !== undefined) {
      current.actualRows = block
        ? outerRows * node.actualRows * (Number(item['block-nl-join'].r_filtered ?? 100) / 100)
        : node.actualRows * (node.loops ?? 1);
      current.loops = 1;
    }
  }
  return current ?? { kind: 'other', operation: 'empty', children: [] };
}

/** Normalises MariaDB's `EXPLAIN/ANALYZE FORMAT=JSON` (and MySQL's EXPLAIN FORMAT=JSON). */
export function normalizeMysqlPlan(json: Json): PlanNode {
  const block = json.query_block ?? json;
  const children = nodesOf(block);
  if (children.length === 1) return children[0]!;
  const node: PlanNode = { kind: 'other', operation: `select #${block.select_id ?? 1}`, children };
  if (block.r_total_time_ms !== undefined) node.timeMs = Number(block.r_total_time_ms);
  return inheritRows(node);
}

/** A wrapper (sort, read_sorted_file, a query block) without its own counts passes on its first input's. */
function inheritRows(node: PlanNode): PlanNode {
  const input = node.children[0];
  if (!input) return node;
  if (node.actualRows !== undefined) {
    // Its own count (after a LIMIT, say): the input's estimate would not be comparable.
    node.loops ??= 1;
    return node;
  }
  if (input.actualRows !== undefined) {
    node.actualRows = totalRows(input);
    node.loops = 1;
  }
  if (input.estimatedRows !== undefined) node.estimatedRows = input.estimatedRows * (input.loops ?? 1);
  return node;
}

/** Rows read by all the scans of a plan: the cost used to prove MariaDB indexes. */
export function rowsRead(plan: PlanNode): number {
  let total = 0;
  const visit = (n: PlanNode) => {
    if (n.kind === 'scan') total += n.rowsExamined ?? 0;
    n.children.forEach(visit);
  };
  visit(plan);
  return total;
}

export const quoteMysqlIdent = (name: string) =>
  name
    .split('.')
    .map((part) => `\`${part.replace(/`/g, '``')}\``)
    .join('.');

const parseJson = (value: unknown): Json => (typeof value === 'string' ? JSON.parse(value) : (value as Json));

/**
 * The MySQL/MariaDB adapter for mysql2: MariaDB's `ANALYZE FORMAT=JSON` (rolled back), and index
 * advice proven on a scratch copy of the tables.
 */
export function mysqlAdapter(options: MysqlAdapterOptions): QueryAdapter & { advisor: IndexAdvisor } {
  invariant(options?.pool, 'mysqlAdapter({ pool }): pass a mysql2 pool');
  const raw = options.pool as Partial<MysqlPoolLike> & { promise?: () => MysqlPoolLike };
  // A callback pool's query() takes a callback: use its promise wrapper.
  const pool: MysqlPoolLike =
    typeof raw.promise === 'function' && !('pool' in raw) ? raw.promise() : (raw as MysqlPoolLike);
  invariant(typeof pool.getConnection === 'function', 'mysqlAdapter({ pool }): pool must be a mysql2 pool');
  const rowLimit = options.scratchRowLimit ?? 1_000_000;

  async function withConnection<T>(fn: (c: MysqlConnectionLike) => Promise<T>): Promise<T> {
    const connection = await pool.getConnection();
    try {
      return await fn(connection);
    } finally {
      connection.release();
    }
  }

  async function explainOn(
    c: MysqlConnectionLike,
    sql: string,
    params: readonly unknown[],
    analyze: boolean,
  ) {
    await assertSingleStatement(sql, 'mysql');
    if (!analyze) {
      const [rows] = await c.query(`EXPLAIN FORMAT=JSON ${sql}`, params);
      return parseJson(rows[0].EXPLAIN);
    }
    await c.query('START TRANSACTION');
    try {
      const [rows] = await c.query(`ANALYZE FORMAT=JSON ${sql}`, params);
      return parseJson(rows[0].ANALYZE);
    } catch (error) {
      const message = (error as Error).message;
      if (/syntax/i.test(message) && /ANALYZE/i.test(message)) {
        throw new NoaError(
          'NOA_DBOPT_ANALYZE_UNSUPPORTED',
          'This server does not support ANALYZE FORMAT=JSON (MariaDB 10.1+ does; MySQL does not): call explain() without analyze.',
          { cause: error },
        );
      }
      throw error;
    } finally {
      await c.query('ROLLBACK');
    }
  }

  async function explain(sql: string, params: readonly unknown[], { analyze }: { analyze: boolean }) {
    assertSql(sql, 'explain(sql)');
    return withConnection(async (c): Promise<AdapterExplain> => {
      const json = await explainOn(c, sql, params, analyze);
      const plan = normalizeMysqlPlan(json);
      const out: AdapterExplain = { plan, raw: json };
      const block = json.query_block ?? {};
      if (analyze && block.r_total_time_ms !== undefined) {
        out.totalMs = Number(block.r_total_time_ms) + Number(json.query_optimization?.r_total_time_ms ?? 0);
      }
      const rows = analyze ? totalRows(plan) : plan.estimatedRows;
      if (rows !== undefined) out.rows = Math.round(rows);
      return out;
    });
  }

  const currentDatabase = async (c: MysqlConnectionLike) => {
    const [rows] = await c.query('SELECT DATABASE() AS db');
    const db = rows[0]?.db as string | null;
    if (!db)
      throw new NoaError(
        'NOA_DBOPT_NO_DATABASE',
        'The mysql2 pool has no default database: set `database` in its options.',
      );
    return db;
  };

  const advisor: IndexAdvisor = {
    async proof() {
      return options.proof ?? 'scratch-copy';
    },

    async tableColumns(tables) {
      const [rows] = await pool.query(
        `SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?) ORDER BY ORDINAL_POSITION`,
        [tables.length ? tables : ['']],
      );
      const out = new Map<string, string[]>();
      for (const r of rows as Json[]) out.set(r.t, [...(out.get(r.t) ?? []), r.c]);
      return out;
    },

    async columnSelectivity(table, columns) {
      // Counted on a sample: MariaDB keeps no per-column distinct counts unless asked to.
      const parts = columns.map((c, i) => `COUNT(DISTINCT ${quoteMysqlIdent(c)}) AS d${i}`).join(', ');
      const [rows] = await pool.query(
        `SELECT COUNT(*) AS n, ${parts} FROM (SELECT * FROM ${quoteMysqlIdent(table)} LIMIT 20000) AS s`,
      );
      const r = rows[0] as Json;
      const n = Math.max(1, Number(r.n));
      return new Map(columns.map((c, i) => [c, Number(r[`d${i}`]) / n]));
    },

    async existingIndexes(table) {
      const [rows] = await pool.query(
        `SELECT INDEX_NAME AS i, COLUMN_NAME AS c FROM information_schema.STATISTICS
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
        [table],
      );
      const byIndex = new Map<string, string[]>();
      for (const r of rows as Json[]) byIndex.set(r.i, [...(byIndex.get(r.i) ?? []), r.c]);
      return [...byIndex.values()];
    },

    async openSession(tables) {
      const proof = await advisor.proof();
      const connection = await pool.getConnection();
      let scratch: string | undefined;
      let source = '';
      try {
        source = await currentDatabase(connection);
        if (proof === 'scratch-copy') {
          // Named after the database it copies, so whoever finds one can tell where it came from.
          scratch = `noa_scratch_${randomBytes(4).toString('hex')}_${source}`.slice(0, 64);
          await connection.query(`CREATE DATABASE ${quoteMysqlIdent(scratch)}`);
          for (const table of tables) {
            const from = `${quoteMysqlIdent(source)}.${quoteMysqlIdent(table)}`;
            const to = `${quoteMysqlIdent(scratch)}.${quoteMysqlIdent(table)}`;
            await connection.query(`CREATE TABLE ${to} LIKE ${from}`);
            await connection.query(`INSERT INTO ${to} SELECT * FROM ${from} LIMIT ${Math.floor(rowLimit)}`);
            await connection.query(`ANALYZE TABLE ${to}`);
          }
          await connection.query(`USE ${quoteMysqlIdent(scratch)}`);
        }
      } catch (error) {
        if (scratch)
          await connection.query(`DROP DATABASE IF EXISTS ${quoteMysqlIdent(scratch)}`).catch(() => {});
        connection.release();
        throw error;
      }
      let closed = false;
      let counter = 0;
      const session: AdvisorSession = {
        async cost(sql, params = []) {
          // ANALYZE runs the statement on the scratch copy: the cost is the rows it really read.
          const json = await explainOn(connection, sql, params, proof === 'scratch-copy');
          return rowsRead(normalizeMysqlPlan(json));
        },
        async addIndex(table, columns): Promise<IndexHandle> {
          if (proof !== 'scratch-copy') {
            throw new NoaError(
              'NOA_DBOPT_CANNOT_PROVE',
              'Index proof is off (proof: "estimated"): nothing can be tried.',
            );
          }
          const name = `noa_try_${++counter}`;
          await connection.query(
            `ALTER TABLE ${quoteMysqlIdent(table)} ADD INDEX ${name} (${columns.map(quoteMysqlIdent).join(', ')})`,
          );
          return { table, columns: [...columns], id: name };
        },
        async dropIndex(handle) {
          await connection.query(`ALTER TABLE ${quoteMysqlIdent(handle.table)} DROP INDEX ${handle.id}`);
        },
        async close() {
          if (closed) return;
          closed = true;
          try {
            if (scratch) {
              // The pool hands this connection out again: give it back its own database.
              await connection.query(`USE ${quoteMysqlIdent(source)}`);
              await connection.query(`DROP DATABASE IF EXISTS ${quoteMysqlIdent(scratch)}`);
            }
          } finally {
            connection.release();
          }
        },
      };
      return session;
    },

    indexDdl(table, columns) {
      return `ALTER TABLE ${quoteMysqlIdent(table)} ADD INDEX ${quoteMysqlIdent(indexName(table, columns, 64))} (${columns.map(quoteMysqlIdent).join(', ')}), ALGORITHM=INPLACE, LOCK=NONE`;
    },

    async createIndex(ddl) {
      await pool.query(ddl);
    },
  };

  return { dialect: 'mysql', explain, isWrite: isWriteStatement, describe: (sql) => sql, advisor };
}
