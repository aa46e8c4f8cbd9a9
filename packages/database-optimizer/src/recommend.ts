import { invariant, type Logger, NoaError, noopLogger } from '@noa/core';
import type {
  AdvisorSession,
  IndexAdvisor,
  IndexHandle,
  IndexProof,
  QueryAdapter,
  WorkloadQuery,
} from './adapter.js';
import { queryShape } from './fingerprint.js';
import { loadParser } from './internal/parsers.js';
import { type ColumnUse, describeStatement } from './internal/statement.js';

export interface RecommendIndexesOptions {
  adapter: QueryAdapter<any>;
  /** The statements to optimise for, or `'pg_stat_statements'` to read the database's own. */
  workload: 'pg_stat_statements' | readonly WorkloadQuery[];
  /**
   * Keep an index only if it lowers the planner's cost of the statements it helps by at least this
   * many percent (default 30).
   */
  minImprovementPct?: number;
  /** At most this many indexes (default 10). */
  maxIndexes?: number;
  /** Columns per index, 1 to 3 (default 3). */
  maxColumns?: number;
  /** Statements read from pg_stat_statements (default 50). */
  statsLimit?: number;
  /** Create the recommended indexes (CREATE INDEX CONCURRENTLY on PostgreSQL). Default false. */
  apply?: boolean;
  logger?: Logger;
}

export interface IndexRecommendation {
  table: string;
  columns: string[];
  /** The statement that creates it without blocking writes. */
  ddl: string;
  /** The statements it helps (normalised). */
  queries: string[];
  /** Cost of those statements, weighted by calls, before and after (`null` when estimated). */
  costBefore: number;
  costAfter: number | null;
  improvementPct: number | null;
  /** How it was proven (`estimated` means it was not). */
  proof: IndexProof;
  /** Whether it was created (`apply: true`). */
  applied: boolean;
}

interface Query {
  sql: string;
  params: readonly unknown[];
  calls: number;
  normalized: string;
  tables: string[];
  uses: Required<ColumnUse>[];
}

interface Candidate {
  table: string;
  columns: string[];
  key: string;
  /** Indexes into the workload of the statements that could use it. */
  queries: number[];
}

const keyOf = (table: string, columns: readonly string[]) => `${table}(${columns.join(',')})`;

/** Resolves unqualified columns against the tables' columns; drops what cannot be resolved. */
function resolveUses(
  uses: ColumnUse[],
  tables: string[],
  columns: Map<string, string[]>,
): Required<ColumnUse>[] {
  const out: Required<ColumnUse>[] = [];
  for (const u of uses) {
    if (u.table === '\u0000unknown') continue;
    if (u.table) {
      if (tables.includes(u.table)) out.push(u as Required<ColumnUse>);
      continue;
    }
    const owners = tables.filter((t) => columns.get(t)?.includes(u.column));
    if (owners.length === 1) out.push({ ...u, table: owners[0]! });
    else if (tables.length === 1 && !columns.has(tables[0]!)) out.push({ ...u, table: tables[0]! });
  }
  return out;
}

const unique = (list: string[]) => [...new Set(list)];

/**
 * Candidate indexes of one statement on one table, 1 to `max` columns: each predicate column;
 * the equality columns by selectivity, then a range or the sort keys (an index that both filters
 * and delivers the order); the join column with the equality columns; the sort keys alone.
 */
function candidatesFor(
  uses: Required<ColumnUse>[],
  table: string,
  max: number,
  selectivity: Map<string, number>,
) {
  const on = uses.filter((u) => u.table === table);
  const bySelectivity = (a: string, b: string) => (selectivity.get(b) ?? 0) - (selectivity.get(a) ?? 0);
  const eq = unique(on.filter((u) => u.use === 'eq').map((u) => u.column)).sort(bySelectivity);
  const range = unique(on.filter((u) => u.use === 'range').map((u) => u.column)).sort(bySelectivity);
  const join = unique(on.filter((u) => u.use === 'join').map((u) => u.column));
  const sortUses = uses.filter((u) => u.use === 'sort');
  const sort =
    sortUses.length > 0 && sortUses.every((u) => u.table === table)
      ? unique(sortUses.map((u) => u.column))
      : [];
  const lists: string[][] = [];
  for (const c of [...eq, ...range, ...join]) lists.push([c]);
  if (eq.length > 1) lists.push(eq.slice(0, max));
  for (const r of range) lists.push([...eq.slice(0, max - 1), r]);
  if (sort.length > 0) {
    lists.push(sort.slice(0, max));
    if (eq.length > 0) lists.push(unique([...eq, ...sort]).slice(0, max));
  }
  for (const j of join) {
    if (eq.length > 0) lists.push(unique([j, ...eq]).slice(0, max));
  }
  return lists.map((l) => unique(l).slice(0, max)).filter((l) => l.length > 0);
}

/**
 * Recommends indexes for a workload and proves each on the database: candidates come from the
 * statements' predicates, joins and sort keys; each is tried (HypoPG hypothetical index on
 * PostgreSQL, a real index on a scratch copy on MariaDB) and kept only when the planner's cost of
 * the statements it serves drops by `minImprovementPct`. Greedy: the index that saves the most
 * is chosen first, then the rest are re-tried on top of it, so overlapping candidates collapse
 * into as few indexes as possible. Nothing is created unless `apply: true`.
 */
export async function recommendIndexes(options: RecommendIndexesOptions): Promise<IndexRecommendation[]> {
  invariant(options?.adapter, 'recommendIndexes: pass { adapter, workload }');
  const advisor = options.adapter.advisor as IndexAdvisor | undefined;
  if (!advisor) {
    throw new NoaError(
      'NOA_DBOPT_UNSUPPORTED',
      `The ${options.adapter.dialect} adapter cannot recommend indexes: use the postgres or mysql adapter.`,
    );
  }
  const minPct = options.minImprovementPct ?? 30;
  invariant(minPct > 0 && minPct < 100, 'recommendIndexes: minImprovementPct must be between 0 and 100');
  const maxColumns = options.maxColumns ?? 3;
  invariant(maxColumns >= 1 && maxColumns <= 3, 'recommendIndexes: maxColumns must be 1, 2 or 3');
  const maxIndexes = options.maxIndexes ?? 10;
  const logger = options.logger ?? noopLogger;
  const dialect = options.adapter.dialect === 'mysql' ? 'mysql' : 'postgres';
  if (dialect === 'postgres') await loadParser();

  let workload: readonly WorkloadQuery[];
  if (options.workload === 'pg_stat_statements') {
    invariant(
      advisor.statsWorkload,
      'This adapter has no statistics view: pass the workload as [{ sql, params, calls }]',
    );
    workload = await advisor.statsWorkload(options.statsLimit ?? 50);
  } else {
    invariant(
      Array.isArray(options.workload),
      'recommendIndexes: workload must be an array of { sql, params?, calls? } or "pg_stat_statements"',
    );
    workload = options.workload;
  }

  // Parse the workload; statements that only read are the ones whose plans we compare.
  const parsed: (Omit<Query, 'uses'> & { rawUses: ColumnUse[] })[] = [];
  for (const w of workload) {
    invariant(
      typeof w?.sql === 'string',
      'recommendIndexes: every workload entry needs sql',
      'NOA_DBOPT_INVALID_SQL',
    );
    const info = describeStatement(w.sql, dialect);
    if (!info || info.tables.length === 0 || (dialect === 'mysql' && !info.readOnly)) continue;
    parsed.push({
      sql: w.sql,
      params: w.params ?? [],
      calls: w.calls ?? 1,
      normalized: queryShape(w.sql, { dialect }).normalized,
      tables: info.tables,
      rawUses: info.uses,
    });
  }
  const allTables = unique(parsed.flatMap((q) => q.tables));
  const columns = await advisor.tableColumns(allTables);
  const queries: Query[] = parsed
    .filter((q) => q.tables.every((t) => columns.has(t)))
    .map(({ rawUses, ...q }) => ({ ...q, uses: resolveUses(rawUses, q.tables, columns) }));
  if (queries.length === 0) return [];

  // Candidates, minus those an existing index already covers (same leading columns).
  const candidates = new Map<string, Candidate>();
  for (const table of unique(queries.flatMap((q) => q.tables))) {
    const used = unique(queries.flatMap((q) => q.uses.filter((u) => u.table === table).map((u) => u.column)));
    if (used.length === 0) continue;
    const selectivity = await advisor.columnSelectivity(table, used);
    const existing = await advisor.existingIndexes(table);
    queries.forEach((q, index) => {
      if (!q.tables.includes(table)) return;
      for (const cols of candidatesFor(q.uses, table, maxColumns, selectivity)) {
        if (existing.some((e) => cols.every((c, i) => e[i] === c))) continue;
        const key = keyOf(table, cols);
        const candidate = candidates.get(key) ?? { table, columns: cols, key, queries: [] };
        if (!candidate.queries.includes(index)) candidate.queries.push(index);
        candidates.set(key, candidate);
      }
    });
  }
  if (candidates.size === 0) return [];

  const proof = await advisor.proof();
  const session = await advisor.openSession(unique(queries.flatMap((q) => q.tables)));
  try {
    const recommendations =
      proof === 'estimated'
        ? await estimate(session, queries, [...candidates.values()], maxIndexes)
        : await prove(session, queries, [...candidates.values()], { minPct, maxIndexes, logger });
    const out: IndexRecommendation[] = recommendations.map((r) => ({
      table: r.table,
      columns: r.columns,
      ddl: advisor.indexDdl(r.table, r.columns),
      queries: r.queries.map((i) => queries[i]!.normalized),
      costBefore: round(r.costBefore),
      costAfter: r.costAfter === null ? null : round(r.costAfter),
      improvementPct:
        r.costAfter === null ? null : round((1 - r.costAfter / Math.max(r.costBefore, 1e-9)) * 100),
      proof,
      applied: false,
    }));
    await session.close();
    if (options.apply) {
      for (const rec of out) {
        logger.info({ ddl: rec.ddl }, 'creating recommended index');
        await advisor.createIndex(rec.ddl);
        rec.applied = true;
      }
    }
    return out;
  } finally {
    await session.close();
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

interface Chosen {
  table: string;
  columns: string[];
  queries: number[];
  costBefore: number;
  costAfter: number | null;
}

async function prove(
  session: AdvisorSession,
  queries: Query[],
  candidates: Candidate[],
  { minPct, maxIndexes, logger }: { minPct: number; maxIndexes: number; logger: Logger },
): Promise<Chosen[]> {
  const factor = 1 - minPct / 100;
  const current: number[] = [];
  for (const q of queries) current.push(await session.cost(q.sql, q.params));

  // Costs of each candidate's statements with it added, re-measured only when they may have changed.
  const measured = new Map<string, Map<number, number>>();
  const measure = async (candidate: Candidate) => {
    const handle = await session.addIndex(candidate.table, candidate.columns);
    const costs = new Map<number, number>();
    try {
      for (const i of candidate.queries)
        costs.set(i, await session.cost(queries[i]!.sql, queries[i]!.params));
    } finally {
      await session.dropIndex(handle);
    }
    measured.set(candidate.key, costs);
    return costs;
  };

  const chosen: (Chosen & { handle: IndexHandle; key: string })[] = [];
  let changed: Set<number> | undefined;
  const remaining = new Map(candidates.map((c) => [c.key, c]));
  while (chosen.length < maxIndexes && remaining.size > 0) {
    let best:
      | { candidate: Candidate; saving: number; helped: number[]; before: number; after: number }
      | undefined;
    for (const candidate of remaining.values()) {
      const stale = !changed || candidate.queries.some((i) => changed!.has(i));
      const costs = stale ? await measure(candidate) : measured.get(candidate.key)!;
      const helped = candidate.queries.filter((i) => (costs.get(i) ?? Infinity) <= current[i]! * factor);
      if (helped.length === 0) continue;
      const before = helped.reduce((s, i) => s + current[i]! * queries[i]!.calls, 0);
      const after = helped.reduce((s, i) => s + costs.get(i)! * queries[i]!.calls, 0);
      const saving = before - after;
      // Ties go to the narrower index: as few columns as possible.
      if (
        !best ||
        saving > best.saving * 1.0001 ||
        (saving >= best.saving * 0.9999 && candidate.columns.length < best.candidate.columns.length)
      ) {
        best = { candidate, saving, helped, before, after };
      }
    }
    if (!best || best.after > best.before * factor) break;
    const { candidate } = best;
    const handle = await session.addIndex(candidate.table, candidate.columns);
    const costs = measured.get(candidate.key)!;
    for (const i of best.helped) current[i] = costs.get(i)!;
    logger.debug({ index: candidate.key, before: best.before, after: best.after }, 'index proven');
    chosen.push({
      table: candidate.table,
      columns: candidate.columns,
      queries: best.helped,
      costBefore: best.before,
      costAfter: best.after,
      handle,
      key: candidate.key,
    });
    remaining.delete(candidate.key);
    changed = new Set(best.helped);
  }

  // An index chosen early can be made redundant by a wider one chosen later: drop it if its
  // statements stay within 10% of their cost without it.
  for (let k = chosen.length - 1; k >= 0 && chosen.length > 1; k--) {
    const index = chosen[k]!;
    await session.dropIndex(index.handle);
    let stillGood = true;
    for (const i of index.queries) {
      const cost = await session.cost(queries[i]!.sql, queries[i]!.params);
      if (cost > current[i]! * 1.1) {
        stillGood = false;
        break;
      }
    }
    if (stillGood) {
      logger.debug({ index: index.key }, 'index made redundant by a later one');
      chosen.splice(k, 1);
    } else {
      index.handle = await session.addIndex(index.table, index.columns);
    }
  }
  return chosen.map(({ handle: _h, key: _k, ...rest }) => rest);
}

/** Without a way to try indexes: one candidate per statement, ranked by the statement's cost. */
async function estimate(
  session: AdvisorSession,
  queries: Query[],
  candidates: Candidate[],
  maxIndexes: number,
) {
  const costs: number[] = [];
  for (const q of queries) costs.push(await session.cost(q.sql, q.params));
  const scored = candidates
    .map((c) => ({ c, weight: c.queries.reduce((s, i) => s + costs[i]! * queries[i]!.calls, 0) }))
    // Widest first among equals: it serves filtering and ordering at once.
    .sort((a, b) => b.weight - a.weight || b.c.columns.length - a.c.columns.length);
  const covered = new Set<number>();
  const out: Chosen[] = [];
  for (const { c, weight } of scored) {
    if (out.length >= maxIndexes) break;
    if (c.queries.every((i) => covered.has(i))) continue;
    for (const i of c.queries) covered.add(i);
    out.push({ table: c.table, columns: c.columns, queries: c.queries, costBefore: weight, costAfter: null });
  }
  return out;
}
