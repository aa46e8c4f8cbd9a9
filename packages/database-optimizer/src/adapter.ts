import type { PlanNode } from './plan.js';

export type AdapterDialect = 'postgres' | 'mysql' | 'mongodb';

/** What an adapter's EXPLAIN returns, before findings are added. */
export interface AdapterExplain {
  plan: PlanNode;
  /** Execution time in ms (ANALYZE only). */
  totalMs?: number;
  /** Rows the statement returned or touched (actual with ANALYZE, else the estimate). */
  rows?: number;
  /** The database's own EXPLAIN output, untouched. */
  raw: unknown;
}

/**
 * How a recommendation was proven: HypoPG hypothetical indexes (PostgreSQL), real indexes on a
 * scratch copy of the tables (MariaDB/MySQL), real indexes inside a transaction that is rolled back
 * (embedded PGlite, where nobody else waits on the lock), or not at all (`estimated`).
 */
export type IndexProof = 'hypopg' | 'scratch-copy' | 'rollback' | 'estimated';

/** One statement of a workload: its text, optional parameters and how often it runs. */
export interface WorkloadQuery {
  sql: string;
  params?: readonly unknown[];
  calls?: number;
}

/** An index in an advisor session (opaque to callers). */
export interface IndexHandle {
  table: string;
  columns: string[];
  id: string;
}

/** A place where indexes can be tried and statements costed without touching the user's tables. */
export interface AdvisorSession {
  /** The planner's cost of a statement (lower is better; comparable within one session only). */
  cost(sql: string, params?: readonly unknown[]): Promise<number>;
  addIndex(table: string, columns: readonly string[]): Promise<IndexHandle>;
  dropIndex(handle: IndexHandle): Promise<void>;
  close(): Promise<void>;
}

/** The index-advice side of a SQL adapter. */
export interface IndexAdvisor {
  /** How this adapter proves an index helps (`estimated` when it cannot). */
  proof(): Promise<IndexProof>;
  /** The columns of each table (for resolving unqualified column names). */
  tableColumns(tables: readonly string[]): Promise<Map<string, string[]>>;
  /** Distinct values per column as a share of rows (0..1]: higher is more selective. */
  columnSelectivity(table: string, columns: readonly string[]): Promise<Map<string, number>>;
  /** The column lists of the table's existing indexes. */
  existingIndexes(table: string): Promise<string[][]>;
  /** Opens a session for trying indexes on the given tables. */
  openSession(tables: readonly string[]): Promise<AdvisorSession>;
  /** The statement that creates the index on the user's database without blocking writes. */
  indexDdl(table: string, columns: readonly string[]): string;
  /** Runs `indexDdl`'s statement (only ever called with `apply: true`). */
  createIndex(ddl: string): Promise<void>;
  /** The top statements of a statistics view (pg_stat_statements), when the database has one. */
  statsWorkload?(limit: number): Promise<WorkloadQuery[]>;
}

/**
 * A database adapter: EXPLAIN normalised into a `PlanNode` tree, plus index advice for SQL
 * databases. One file per backend under `src/adapters/`.
 */
export interface QueryAdapter<Query = string> {
  readonly dialect: AdapterDialect;
  /**
   * Explains a statement. With `analyze`, the statement is executed inside a transaction that is
   * rolled back (the analyzer has already checked that writes were allowed).
   */
  explain(query: Query, params: readonly unknown[], options: { analyze: boolean }): Promise<AdapterExplain>;
  /** Whether the statement may change data (decides whether `analyze` needs `allowWrites`). */
  isWrite(query: Query): boolean;
  /** Text used for fingerprints and logs. */
  describe(query: Query): string;
  readonly advisor?: IndexAdvisor;
}
