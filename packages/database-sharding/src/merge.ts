import { invariant, NoaError } from '@noa/core';
import { addValues, compareValues, groupKeyPart, toNumber } from './internal/values.js';

type Row = Record<string, unknown>;

export interface OrderByColumn {
  column: string;
  /** Default 'asc'. */
  direction?: 'asc' | 'desc';
  /** Where NULLs go; default as in PostgreSQL: last for 'asc', first for 'desc' (MySQL puts them first for 'asc'). */
  nulls?: 'first' | 'last';
  /**
   * Orders two non-null values. The default is binary order (numbers by value, strings by code
   * unit, like PostgreSQL's "C" collation); pass one that matches the database's collation, for
   * example `(a, b) => String(a).localeCompare(String(b))`.
   */
  compare?: (a: unknown, b: unknown) => number;
}

export type AggregateFunction = 'count' | 'sum' | 'min' | 'max' | 'avg';

/**
 * How the shards' values of one column combine. `'count'` and `'sum'` add, `'min'`/`'max'` take
 * the extreme. `'avg'` is SUM / COUNT over all shards (never an average of averages): each shard
 * returns `<column>_sum` and `<column>_count`, or name them with `{ avg: { sum, count } }`.
 */
export type AggregateSpec = AggregateFunction | { avg: { sum: string; count: string } };

export interface MergeOptions<R = Row> {
  /** Each shard's rows must already be in this order (ORDER BY in the SQL); they are k-way merged. */
  orderBy?: readonly OrderByColumn[];
  /** Rows to keep after the merge; each shard must return at least `offset + limit` (LIMIT in the SQL). */
  limit?: number;
  offset?: number;
  aggregate?: Readonly<Record<string, AggregateSpec>>;
  /** Columns that identify a group; rows of the same group from different shards are combined. */
  groupBy?: readonly string[];
  /** A filter on merged groups (HAVING cannot run per shard). */
  having?: (row: R) => boolean;
}

export interface ShardPart {
  shard: string;
  rows: Row[];
  numericColumns?: ReadonlySet<string>;
}

type Comparator = (a: Row, b: Row) => number;

function rowComparator(
  orderBy: readonly OrderByColumn[],
  ordersAsNumber: (column: string) => boolean,
): Comparator {
  const columns = orderBy.map((o) => {
    invariant(
      typeof o?.column === 'string',
      `orderBy entries are { column, direction? }, got ${JSON.stringify(o)}`,
    );
    const descending = o.direction === 'desc';
    invariant(
      o.direction === undefined || descending || o.direction === 'asc',
      `orderBy direction must be 'asc' or 'desc'`,
    );
    const nullsFirst = (o.nulls ?? (descending ? 'first' : 'last')) === 'first';
    const isNumeric = ordersAsNumber(o.column);
    const compare = o.compare ?? ((a: unknown, b: unknown) => compareValues(a, b, isNumeric));
    return { name: o.column, sign: descending ? -1 : 1, nullsFirst, compare };
  });
  return (a, b) => {
    for (const c of columns) {
      const x = a[c.name];
      const y = b[c.name];
      const xNull = x === null || x === undefined;
      const yNull = y === null || y === undefined;
      if (xNull || yNull) {
        if (xNull && yNull) continue;
        return xNull === c.nullsFirst ? -1 : 1;
      }
      const result = c.compare(x, y);
      if (result !== 0) return result * c.sign;
    }
    return 0;
  };
}

function unionNumeric(parts: readonly ShardPart[]): Set<string> {
  const out = new Set<string>();
  for (const part of parts) for (const column of part.numericColumns ?? []) out.add(column);
  return out;
}

/**
 * Which columns order by value: those the driver typed numeric. When no shard reported column
 * types (pools that return only rows), a pair of values that both parse as decimals orders by
 * value, since numeric and bigint columns then arrive as strings.
 */
function numericOrdering(
  parts: readonly ShardPart[],
  numeric: ReadonlySet<string>,
): (column: string) => boolean {
  return parts.some((part) => part.numericColumns) ? (column) => numeric.has(column) : () => true;
}

/** A binary min-heap of shard cursors, ordered by their current row (ties by shard order). */
function kWayMerge(parts: readonly ShardPart[], compare: Comparator, take: number): Row[] {
  const heap: number[] = [];
  const position = parts.map(() => 0);
  const less = (i: number, j: number) => {
    const c = compare(parts[i]!.rows[position[i]!]!, parts[j]!.rows[position[j]!]!);
    return c < 0 || (c === 0 && i < j);
  };
  const down = (start: number) => {
    let k = start;
    for (;;) {
      const l = 2 * k + 1;
      const r = l + 1;
      let m = k;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
      if (m === k) return;
      [heap[k], heap[m]] = [heap[m]!, heap[k]!];
      k = m;
    }
  };
  parts.forEach((part, i) => {
    if (part.rows.length > 0) heap.push(i);
  });
  for (let k = (heap.length >> 1) - 1; k >= 0; k--) down(k);
  const out: Row[] = [];
  while (heap.length > 0 && out.length < take) {
    const i = heap[0]!;
    out.push(parts[i]!.rows[position[i]!]!);
    position[i]!++;
    if (position[i]! >= parts[i]!.rows.length) {
      heap[0] = heap[heap.length - 1]!;
      heap.pop();
    }
    down(0);
  }
  return out;
}

function assertSorted(part: ShardPart, compare: Comparator, orderBy: readonly OrderByColumn[]): void {
  for (let i = 1; i < part.rows.length; i++) {
    if (compare(part.rows[i - 1]!, part.rows[i]!) > 0) {
      throw new NoaError(
        'NOA_SHARDING_UNSORTED_RESULT',
        `Rows from shard "${part.shard}" are not in the order of orderBy ${JSON.stringify(orderBy.map(({ column, direction, nulls }) => ({ column, direction, nulls })))} (row ${i}). Add the same ORDER BY to the SQL; for text columns use a binary collation (COLLATE "C" / utf8mb4_bin) or pass orderBy[].compare matching the database's collation.`,
      );
    }
  }
}

interface AggregatePlan {
  column: string;
  fn: Exclude<AggregateFunction, 'avg'> | 'avg';
  sum?: string;
  count?: string;
}

function planAggregates(aggregate: Readonly<Record<string, AggregateSpec>>): {
  plans: AggregatePlan[];
  helpers: Set<string>;
} {
  const plans: AggregatePlan[] = [];
  const helpers = new Set<string>();
  for (const [column, spec] of Object.entries(aggregate)) {
    if (spec === 'avg' || (typeof spec === 'object' && spec !== null && 'avg' in spec)) {
      const sum = spec === 'avg' ? `${column}_sum` : spec.avg.sum;
      const count = spec === 'avg' ? `${column}_count` : spec.avg.count;
      invariant(
        typeof sum === 'string' && typeof count === 'string',
        `aggregate ${column}: { avg: { sum, count } } needs two column names`,
      );
      plans.push({ column, fn: 'avg', sum, count });
      if (spec === 'avg') {
        helpers.add(sum);
        helpers.add(count);
      }
    } else {
      invariant(
        spec === 'count' || spec === 'sum' || spec === 'min' || spec === 'max',
        `aggregate ${column}: ${JSON.stringify(spec)} is not one of 'count', 'sum', 'min', 'max', 'avg'`,
      );
      plans.push({ column, fn: spec });
    }
  }
  // Helper columns also listed as aggregates stay in the output.
  for (const plan of plans) helpers.delete(plan.column);
  return { plans, helpers };
}

interface Group {
  row: Row;
  sums: Map<string, unknown>;
  counts: Map<string, unknown>;
}

function aggregateGroups(
  parts: readonly ShardPart[],
  options: MergeOptions,
  numeric: ReadonlySet<string>,
  ordersAsNumber: (column: string) => boolean,
): Row[] {
  const { plans, helpers } = planAggregates(options.aggregate ?? {});
  const groupBy = options.groupBy ?? [];
  const groups = new Map<string, Group>();
  for (const part of parts) {
    for (const row of part.rows) {
      for (const plan of plans) {
        if (plan.fn === 'avg' && (!(plan.sum! in row) || !(plan.count! in row))) {
          throw new NoaError(
            'NOA_SHARDING_AVG_NEEDS_SUM_COUNT',
            `aggregate ${plan.column}: 'avg' needs columns "${plan.sum}" and "${plan.count}" from each shard (SUM(x) AS ${plan.sum}, COUNT(x) AS ${plan.count}); an average of averages would be wrong. Shard "${part.shard}" returned ${Object.keys(row).join(', ')}.`,
          );
        }
      }
      const key = groupBy.map((c) => groupKeyPart(row[c], numeric.has(c))).join('\u0000');
      const group = groups.get(key);
      if (!group) {
        const sums = new Map<string, unknown>();
        const counts = new Map<string, unknown>();
        for (const plan of plans) {
          if (plan.fn === 'avg') {
            sums.set(plan.column, row[plan.sum!] ?? null);
            counts.set(plan.column, row[plan.count!] ?? 0);
          }
        }
        groups.set(key, { row: { ...row }, sums, counts });
        continue;
      }
      const acc = group.row;
      for (const plan of plans) {
        const c = plan.column;
        switch (plan.fn) {
          case 'count':
          case 'sum':
            acc[c] = addValues(acc[c], row[c]);
            break;
          case 'min':
          case 'max': {
            const value = row[c];
            if (value === null || value === undefined) break;
            const current = acc[c];
            const better =
              compareValues(value, current, ordersAsNumber(c)) * (plan.fn === 'min' ? -1 : 1) > 0;
            if (current === null || current === undefined || better) acc[c] = value;
            break;
          }
          case 'avg':
            group.sums.set(c, addValues(group.sums.get(c), row[plan.sum!]));
            group.counts.set(c, addValues(group.counts.get(c), row[plan.count!]));
            break;
        }
      }
    }
  }
  const out: Row[] = [];
  for (const group of groups.values()) {
    const row = group.row;
    for (const plan of plans) {
      if (plan.fn !== 'avg') continue;
      const count = toNumber(group.counts.get(plan.column) ?? 0);
      const sum = group.sums.get(plan.column);
      row[plan.column] = count === 0 || sum === null || sum === undefined ? null : toNumber(sum) / count;
      if (plan.sum && !helpers.has(plan.sum)) row[plan.sum] = group.sums.get(plan.column);
      if (plan.count && !helpers.has(plan.count)) row[plan.count] = group.counts.get(plan.column);
    }
    for (const helper of helpers) delete row[helper];
    out.push(row);
  }
  return out;
}

function validateWindow(options: MergeOptions): { offset: number; take: number } {
  const offset = options.offset ?? 0;
  invariant(Number.isInteger(offset) && offset >= 0, `offset must be an integer >= 0, got ${offset}`);
  const limit = options.limit;
  invariant(
    limit === undefined || (Number.isInteger(limit) && limit >= 0),
    `limit must be an integer >= 0, got ${limit}`,
  );
  return { offset, take: limit === undefined ? Number.POSITIVE_INFINITY : offset + limit };
}

/**
 * Combines the rows of several shards into the rows one database holding all of them would return:
 * GROUP BY + aggregates (COUNT/SUM/MIN/MAX, AVG from SUM and COUNT), then HAVING, then ORDER BY
 * (a k-way merge of the shards' already sorted rows when nothing is grouped), then OFFSET/LIMIT.
 */
export function mergeShardRows<R = Row>(parts: readonly ShardPart[], options: MergeOptions<R> = {}): R[] {
  const { offset, take } = validateWindow(options as MergeOptions);
  const numeric = unionNumeric(parts);
  const orderBy = options.orderBy ?? [];
  const ordersAsNumber = numericOrdering(parts, numeric);
  const compare = orderBy.length > 0 ? rowComparator(orderBy, ordersAsNumber) : undefined;
  const grouped = options.aggregate !== undefined || (options.groupBy?.length ?? 0) > 0;
  invariant(
    !options.having || grouped,
    'having filters groups: use it with groupBy or aggregate (filter plain rows in the SQL)',
  );
  let rows: Row[];
  if (grouped) {
    rows = aggregateGroups(parts, options as MergeOptions, numeric, ordersAsNumber);
    if (options.having) rows = rows.filter((row) => options.having!(row as R));
    if (compare) rows.sort(compare);
    rows = rows.slice(offset, take);
  } else if (compare) {
    for (const part of parts) assertSorted(part, compare, orderBy);
    rows = kWayMerge(parts, compare, take).slice(offset);
  } else {
    rows = parts.flatMap((part) => part.rows).slice(offset, take);
  }
  return rows as R[];
}
