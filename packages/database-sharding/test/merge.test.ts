import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeShardRows, type OrderByColumn, type ShardPart } from '../src/index.js';

type Item = {
  id: number;
  status: string;
  price: number | null;
};

const item = fc.record({
  id: fc.integer(),
  status: fc.constantFrom('new', 'paid', 'shipped'),
  price: fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: null }),
});
/** Rows with unique ids (a total order), dealt to 1-6 shards. */
const dealt = fc
  .tuple(
    fc.uniqueArray(item, { selector: (r) => r.id, maxLength: 60 }),
    fc.integer({ min: 1, max: 6 }),
    fc.array(fc.nat(), { maxLength: 60 }),
  )
  .map(([rows, shards, deal]) => {
    const parts: Item[][] = Array.from({ length: shards }, () => []);
    rows.forEach((row, i) => {
      parts[(deal[i] ?? i) % shards]!.push(row);
    });
    return { rows, parts };
  });

/** What a database returns for SELECT … ORDER BY … LIMIT n over `rows` (nulls last for asc). */
function sqlOrder(rows: Item[], orderBy: OrderByColumn[], limit?: number): Item[] {
  const sorted = [...rows].sort((a, b) => {
    for (const { column, direction } of orderBy) {
      const x = a[column as keyof Item];
      const y = b[column as keyof Item];
      if (x === y) continue;
      const desc = direction === 'desc';
      if (x === null) return desc ? -1 : 1;
      if (y === null) return desc ? 1 : -1;
      return (x < y ? -1 : 1) * (desc ? -1 : 1);
    }
    return 0;
  });
  return limit === undefined ? sorted : sorted.slice(0, limit);
}

/** SELECT status, COUNT(*) n, SUM(price) total, MIN, MAX, SUM/COUNT(price) for AVG … GROUP BY status. */
function sqlGroup(rows: Item[]) {
  const groups = new Map<string, Item[]>();
  for (const row of rows) groups.set(row.status, [...(groups.get(row.status) ?? []), row]);
  return [...groups].map(([status, list]) => {
    const prices = list.map((r) => r.price).filter((p): p is number => p !== null);
    return {
      status,
      n: list.length,
      total: prices.length ? prices.reduce((a, b) => a + b, 0) : null,
      low: prices.length ? Math.min(...prices) : null,
      high: prices.length ? Math.max(...prices) : null,
      price_sum: prices.length ? prices.reduce((a, b) => a + b, 0) : null,
      price_count: prices.length,
    };
  });
}

const aggregate = { n: 'count', total: 'sum', low: 'min', high: 'max', price: 'avg' } as const;

describe('mergeShardRows', () => {
  it('ORDER BY + LIMIT: the k-way merge of sorted shard results equals one database’s answer', () => {
    fc.assert(
      fc.property(
        dealt,
        fc.constantFrom<OrderByColumn[]>(
          [{ column: 'id' }],
          [{ column: 'id', direction: 'desc' }],
          [{ column: 'price', direction: 'desc' }, { column: 'id' }],
          [{ column: 'status' }, { column: 'price' }, { column: 'id', direction: 'desc' }],
        ),
        fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
        ({ rows, parts }, orderBy, limit) => {
          const shardParts: ShardPart[] = parts.map((p, i) => ({
            shard: `s${i}`,
            rows: sqlOrder(p, orderBy, limit),
          }));
          expect(mergeShardRows(shardParts, { orderBy, limit })).toEqual(sqlOrder(rows, orderBy, limit));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('OFFSET: each shard returns offset + limit rows; the merge skips the first offset', () => {
    fc.assert(
      fc.property(dealt, fc.nat({ max: 10 }), fc.nat({ max: 10 }), ({ rows, parts }, offset, limit) => {
        const orderBy = [{ column: 'id' }];
        const shardParts = parts.map((p, i) => ({
          shard: `s${i}`,
          rows: sqlOrder(p, orderBy, offset + limit),
        }));
        expect(mergeShardRows(shardParts, { orderBy, limit, offset })).toEqual(
          sqlOrder(rows, orderBy).slice(offset, offset + limit),
        );
      }),
    );
  });

  it('GROUP BY with COUNT/SUM/MIN/MAX/AVG equals the aggregate over all rows (AVG from SUM and COUNT)', () => {
    fc.assert(
      fc.property(dealt, ({ rows, parts }) => {
        const shardParts = parts.map((p, i) => ({ shard: `s${i}`, rows: sqlGroup(p) }));
        const merged = mergeShardRows(shardParts, {
          groupBy: ['status'],
          aggregate,
          orderBy: [{ column: 'status' }],
        });
        const expected = sqlGroup(rows)
          .sort((a, b) => (a.status < b.status ? -1 : 1))
          .map(({ price_sum, price_count, ...rest }) => ({
            ...rest,
            price: price_count ? price_sum! / price_count : null,
          }));
        expect(merged).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('global aggregates (no GROUP BY) collapse to one row', () => {
    const merged = mergeShardRows(
      [
        { shard: 'a', rows: [{ n: '3', total: '10.50', avg_sum: '10.50', avg_count: '3' }] },
        { shard: 'b', rows: [{ n: '2', total: '0.25', avg_sum: '0.25', avg_count: '2' }] },
        { shard: 'c', rows: [{ n: '0', total: null, avg_sum: null, avg_count: '0' }] },
      ],
      { aggregate: { n: 'count', total: 'sum', avg: 'avg' } },
    );
    expect(merged).toEqual([{ n: '5', total: '10.75', avg: 10.75 / 5 }]);
  });

  it('sums numeric strings exactly (no float rounding) and keeps big integers exact', () => {
    const merged = mergeShardRows(
      [
        { shard: 'a', rows: [{ total: '0.1' }] },
        { shard: 'b', rows: [{ total: '0.2' }] },
        { shard: 'c', rows: [{ total: '9007199254740993' }] },
      ],
      { aggregate: { total: 'sum' } },
    );
    expect(merged[0]!.total).toBe('9007199254740993.3');
    const negative = mergeShardRows(
      [
        { shard: 'a', rows: [{ total: '-0.05' }] },
        { shard: 'b', rows: [{ total: '0.01' }] },
      ],
      { aggregate: { total: 'sum' } },
    );
    expect(negative[0]!.total).toBe('-0.04');
  });

  it('orders numeric strings by value when the driver says the column is numeric', () => {
    const parts = [
      { shard: 'a', rows: [{ id: '9' }, { id: '100' }], numericColumns: new Set(['id']) },
      { shard: 'b', rows: [{ id: '10' }, { id: '2000' }], numericColumns: new Set(['id']) },
    ];
    expect(mergeShardRows(parts, { orderBy: [{ column: 'id' }] }).map((r) => r.id)).toEqual([
      '9',
      '10',
      '100',
      '2000',
    ]);
  });

  it('without column types from the driver, decimal strings still order by value', () => {
    const parts = [
      {
        shard: 'a',
        rows: [
          { g: 'x', total: '987.00' },
          { g: 'y', total: '1234.50' },
        ],
      },
      {
        shard: 'b',
        rows: [
          { g: 'x', total: '20.00' },
          { g: 'z', total: 'n/a' },
        ],
      },
    ];
    const merged = mergeShardRows(parts, {
      groupBy: ['g'],
      aggregate: { total: 'max' },
      orderBy: [{ column: 'total', direction: 'desc' }],
    });
    expect(merged.map((r) => r.total)).toEqual(['n/a', '1234.50', '987.00']);
  });

  it('a shard whose rows are not in orderBy order is a clear error naming it', () => {
    const parts = [{ shard: 'eu-1', rows: [{ id: 2 }, { id: 1 }] }];
    expect(() => mergeShardRows(parts, { orderBy: [{ column: 'id' }] })).toThrow(
      expect.objectContaining({
        code: 'NOA_SHARDING_UNSORTED_RESULT',
        message: expect.stringContaining('eu-1'),
      }),
    );
  });

  it('custom comparators and nulls placement', () => {
    const parts = [
      { shard: 'a', rows: [{ name: null }, { name: 'alice' }, { name: 'Bob' }] },
      { shard: 'b', rows: [{ name: 'Anna' }, { name: 'carl' }] },
    ];
    const compare = (a: unknown, b: unknown) =>
      String(a).localeCompare(String(b), 'en', { sensitivity: 'base' });
    expect(
      mergeShardRows(parts, { orderBy: [{ column: 'name', compare, nulls: 'first' }] }).map((r) => r.name),
    ).toEqual([null, 'alice', 'Anna', 'Bob', 'carl']);
  });

  it('having filters merged groups; AVG without its SUM/COUNT columns is refused', () => {
    const parts = [
      {
        shard: 'a',
        rows: [
          { g: 'x', n: 2 },
          { g: 'y', n: 1 },
        ],
      },
      { shard: 'b', rows: [{ g: 'x', n: 1 }] },
    ];
    expect(
      mergeShardRows(parts, {
        groupBy: ['g'],
        aggregate: { n: 'count' },
        having: (r) => (r.n as number) > 1,
      }),
    ).toEqual([{ g: 'x', n: 3 }]);
    expect(() =>
      mergeShardRows([{ shard: 'a', rows: [{ avg_price: 3 }] }], { aggregate: { avg_price: 'avg' } }),
    ).toThrow(expect.objectContaining({ code: 'NOA_SHARDING_AVG_NEEDS_SUM_COUNT' }));
    expect(() => mergeShardRows(parts, { having: () => true })).toThrow(/having/);
    expect(() => mergeShardRows(parts, { limit: -1 })).toThrow(/limit/);
    expect(() => mergeShardRows(parts, { aggregate: { n: 'median' as never } })).toThrow(/not one of/);
  });

  it('explicit AVG column names keep both helpers in the output', () => {
    const parts = [
      { shard: 'a', rows: [{ s: 10, c: 2 }] },
      { shard: 'b', rows: [{ s: 5, c: 1 }] },
    ];
    expect(mergeShardRows(parts, { aggregate: { mean: { avg: { sum: 's', count: 'c' } } } })).toEqual([
      { s: 15, c: 3, mean: 5 },
    ]);
  });
});
