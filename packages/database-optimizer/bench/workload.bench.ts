/**
 * The reference workload: a shop schema with a few million rows on the real PostgreSQL, every
 * non-key index dropped, ~20 query templates. We time the workload, let recommendIndexes prove and
 * apply its advice, and time it again. The peer is the naive fix a person would try first: one
 * single-column index per filtered, joined or sorted column.
 */
import { type BenchTable, isReachable, renderText, serviceUrl, uniqueName } from '@noa/testkit';
import pg from 'pg';
import { type IndexRecommendation, recommendIndexes } from '../src/index.js';
import { postgresAdapter } from '../src/postgres.js';

const quick = process.env.NOA_BENCH_QUICK === '1';
const scale = quick ? 0.1 : 1;
const CUSTOMERS = Math.round(200_000 * scale);
const ORDERS = Math.round(2_000_000 * scale);
const ITEMS = Math.round(1_000_000 * scale);
const PRODUCTS = 20_000;
const RUNS = quick ? 2 : 3;

const SCHEMA = [
  `CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL, country text NOT NULL, city text NOT NULL, created_at timestamptz NOT NULL)`,
  `INSERT INTO customers SELECT g, 'c' || g || '@example.com', (ARRAY['de','fr','us','jp','br','in','uk','es'])[1 + g % 8], 'city-' || (g % 500), timestamptz '2026-01-01' - (g || ' minutes')::interval FROM generate_series(1::bigint, ${CUSTOMERS}) g`,
  `CREATE TABLE products (id bigint PRIMARY KEY, sku text NOT NULL, name text NOT NULL, category int NOT NULL, price numeric NOT NULL)`,
  `INSERT INTO products SELECT g, 'SKU-' || g, 'product ' || g, g % 200, (g % 5000) / 10.0 FROM generate_series(1::bigint, ${PRODUCTS}) g`,
  `CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, status text NOT NULL, total numeric NOT NULL, created_at timestamptz NOT NULL, shipped_at timestamptz)`,
  `INSERT INTO orders SELECT g, 1 + (g * 7919) % ${CUSTOMERS}, (ARRAY['new','paid','shipped','delivered','cancelled'])[1 + (g * 31) % 5], ((g * 17) % 100000) / 100.0, timestamptz '2026-01-01' - (g * 13 || ' seconds')::interval, CASE WHEN g % 10 = 0 THEN NULL ELSE timestamptz '2026-01-02' END FROM generate_series(1::bigint, ${ORDERS}) g`,
  `CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL, product_id bigint NOT NULL, quantity int NOT NULL)`,
  `INSERT INTO order_items SELECT g, 1 + (g * 104729) % ${ORDERS}, 1 + (g * 613) % ${PRODUCTS}, 1 + g % 5 FROM generate_series(1::bigint, ${ITEMS}) g`,
  'ANALYZE',
];

const day = (n: number) => new Date(Date.UTC(2025, 11, 31 - n)).toISOString();
/** ~20 templates: point lookups, multi-column filters, ranges, joins, ORDER BY + LIMIT. */
const TEMPLATES: { sql: string; params: (i: number) => unknown[] }[] = [
  { sql: 'SELECT * FROM orders WHERE customer_id = $1', params: (i) => [1 + i * 97] },
  { sql: 'SELECT * FROM orders WHERE customer_id = $1 AND status = $2', params: (i) => [2 + i * 89, 'paid'] },
  {
    sql: 'SELECT id, total FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 10',
    params: (i) => [3 + i * 83],
  },
  {
    sql: 'SELECT count(*) FROM orders WHERE created_at >= $1 AND created_at < $2',
    params: (i) => [day(i + 2), day(i + 1)],
  },
  {
    sql: 'SELECT * FROM orders WHERE status = $1 ORDER BY created_at DESC LIMIT 20',
    params: (i) => [['new', 'cancelled', 'paid'][i % 3]],
  },
  { sql: 'SELECT * FROM customers WHERE email = $1', params: (i) => [`c${100 + i * 7}@example.com`] },
  {
    sql: 'SELECT id FROM customers WHERE country = $1 AND city = $2 LIMIT 50',
    params: (i) => ['de', `city-${i * 8}`],
  },
  {
    sql: 'SELECT o.id, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.email = $1',
    params: (i) => [`c${500 + i}@example.com`],
  },
  { sql: 'SELECT sum(quantity) FROM order_items WHERE order_id = $1', params: (i) => [1 + i * 1013] },
  { sql: 'SELECT * FROM order_items WHERE product_id = $1 LIMIT 100', params: (i) => [1 + i * 37] },
  {
    sql: 'SELECT p.name, oi.quantity FROM order_items oi JOIN products p ON p.id = oi.product_id WHERE oi.order_id = $1',
    params: (i) => [7 + i * 991],
  },
  { sql: 'SELECT * FROM products WHERE sku = $1', params: (i) => [`SKU-${10 + i}`] },
  {
    sql: 'SELECT * FROM products WHERE category = $1 AND price BETWEEN $2 AND $3',
    params: (i) => [i % 200, 10, 60],
  },
  { sql: 'SELECT id, total FROM orders WHERE total > $1 ORDER BY total DESC LIMIT 10', params: () => [990] },
  {
    sql: 'SELECT id FROM customers WHERE created_at > $1 ORDER BY created_at LIMIT 20',
    params: (i) => [day(30 + i)],
  },
  {
    sql: 'SELECT count(*) FROM orders WHERE customer_id = $1 AND created_at > $2',
    params: (i) => [5 + i * 71, day(200)],
  },
  {
    sql: 'SELECT oi.* FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE o.customer_id = $1',
    params: (i) => [11 + i * 53],
  },
  {
    sql: 'SELECT id FROM orders WHERE shipped_at IS NULL AND customer_id = $1',
    params: (i) => [13 + i * 61],
  },
  {
    sql: 'SELECT c.country, count(*) FROM customers c WHERE c.created_at BETWEEN $1 AND $2 GROUP BY c.country',
    params: (i) => [day(i + 3), day(i + 1)],
  },
  { sql: 'SELECT * FROM customers WHERE lower(email) = $1', params: (i) => [`c${900 + i}@example.com`] },
];

async function timeWorkload(pool: pg.Pool): Promise<{ totalMs: number; perTemplate: number[] }> {
  const perTemplate = TEMPLATES.map(() => 0);
  for (let run = 0; run < RUNS; run++) {
    for (const [t, template] of TEMPLATES.entries()) {
      const start = performance.now();
      await pool.query(template.sql, template.params(run));
      perTemplate[t]! += performance.now() - start;
    }
  }
  return { totalMs: perTemplate.reduce((a, b) => a + b, 0), perTemplate };
}

async function indexCount(pool: pg.Pool) {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey'`,
  );
  return rows[0].n as number;
}

/** The naive peer: one single-column index per column the workload filters, joins or sorts on. */
const NAIVE = [
  'orders(customer_id)',
  'orders(status)',
  'orders(created_at)',
  'orders(total)',
  'orders(shipped_at)',
  'customers(email)',
  'customers(country)',
  'customers(city)',
  'customers(created_at)',
  'order_items(order_id)',
  'order_items(product_id)',
  'products(sku)',
  'products(category)',
  'products(price)',
];

export async function workloadBench(): Promise<BenchTable[]> {
  const url = serviceUrl('postgres');
  if (!(await isReachable(url))) {
    console.log(
      `\nreference workload: skipped, PostgreSQL is not reachable at ${url} (scripts/services/up.sh)`,
    );
    return [];
  }
  const name = uniqueName('bench_dbopt');
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: dbUrl.toString(), max: 2 });
  // An idle client ended by the server must not crash the benchmark; queries still report errors.
  pool.on('error', () => {});
  try {
    const seedStart = performance.now();
    for (const sql of SCHEMA) await pool.query(sql);
    await pool.query('CREATE EXTENSION IF NOT EXISTS hypopg');
    const seedMs = performance.now() - seedStart;
    const rows = CUSTOMERS + ORDERS + ITEMS + PRODUCTS;
    console.log(
      `\nreference workload: seeded ${rows.toLocaleString('en-US')} rows in ${(seedMs / 1000).toFixed(1)} s`,
    );

    await timeWorkload(pool); // warm the cache: both sides then read from memory
    const before = await timeWorkload(pool);

    const adviseStart = performance.now();
    const recs: IndexRecommendation[] = await recommendIndexes({
      adapter: postgresAdapter({ pool }),
      workload: TEMPLATES.map((t) => ({ sql: t.sql, params: t.params(0), calls: 1 })),
      apply: true,
    });
    const adviseMs = performance.now() - adviseStart;
    await pool.query('ANALYZE');
    const ours = await timeWorkload(pool);
    const oursIndexes = await indexCount(pool);

    // The naive peer on the same data: drop ours, add one index per column.
    for (const { rows: list } of [
      await pool.query(
        `SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'noa_%'`,
      ),
    ]) {
      for (const r of list) await pool.query(`DROP INDEX ${r.indexname}`);
    }
    for (const spec of NAIVE) {
      const [table, column] = spec.replace(')', '').split('(');
      await pool.query(`CREATE INDEX ON ${table} (${column})`);
    }
    await pool.query('ANALYZE');
    const naive = await timeWorkload(pool);
    const naiveIndexes = await indexCount(pool);

    const pct = (after: number) => `${((1 - after / before.totalMs) * 100).toFixed(1)}%`;
    const perRun = (ms: number) => `${(ms / RUNS).toFixed(1)} ms`;
    const workloadTable: BenchTable = {
      id: 'dbopt-workload',
      title: `Reference workload: ${TEMPLATES.length} query templates on ${rows.toLocaleString('en-US')} rows (PostgreSQL 15), no secondary indexes at the start`,
      columns: ['setup', 'indexes', 'workload time', 'reduction'],
      rows: [
        ['no secondary index (before)', '0', perRun(before.totalMs), '—'],
        ['recommendIndexes({ apply: true })', String(oursIndexes), perRun(ours.totalMs), pct(ours.totalMs)],
        ['naive: one index per used column', String(naiveIndexes), perRun(naive.totalMs), pct(naive.totalMs)],
      ],
      notes: [
        `workload time = one pass over the ${TEMPLATES.length} templates (average of ${RUNS} passes, warm cache)`,
        `recommendIndexes proved and created ${recs.length} indexes with HypoPG in ${(adviseMs / 1000).toFixed(1)} s, including CREATE INDEX CONCURRENTLY`,
        'goal: at least 75% reduction with as few indexes as possible',
      ],
    };
    console.log(renderText(workloadTable));
    const recTable: BenchTable = {
      id: 'dbopt-recommendations',
      title: 'Indexes recommended for the reference workload (planner cost of the statements each serves)',
      columns: ['index', 'statements', 'cost before', 'cost after', 'improvement'],
      rows: recs.map((r) => [
        `${r.table}(${r.columns.join(', ')})`,
        String(r.queries.length),
        Math.round(r.costBefore),
        Math.round(r.costAfter ?? 0),
        `${(r.improvementPct ?? 0).toFixed(1)}%`,
      ]),
    };
    console.log(renderText(recTable));
    const templateTable: BenchTable = {
      id: 'dbopt-workload-templates',
      title: 'Reference workload per template: one execution, before and after recommendIndexes',
      columns: ['template', 'before', 'after', 'naive'],
      rows: TEMPLATES.map((t, i) => [
        t.sql,
        perRun(before.perTemplate[i]!),
        perRun(ours.perTemplate[i]!),
        perRun(naive.perTemplate[i]!),
      ]),
    };
    console.log(renderText(templateTable));
    return [workloadTable, recTable, templateTable];
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
