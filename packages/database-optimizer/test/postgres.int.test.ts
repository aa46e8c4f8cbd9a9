import { createPool } from '@noa/connection-pool';
import { postgresDriver } from '@noa/connection-pool/postgres';
import { requireService, serviceUrl } from '@noa/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createN1Detector, createQueryAnalyzer, type N1Report, recommendIndexes } from '../src/index.js';
import { postgresAdapter } from '../src/postgres.js';
import { adapterContract } from './contract.js';
import { createPgDatabase, PG_SHOP } from './helpers.js';

const service = await requireService('postgres');

describe.skipIf(!service.available)('postgresAdapter (real PostgreSQL, 250k seeded rows)', () => {
  let db: Awaited<ReturnType<typeof createPgDatabase>>;
  beforeAll(async () => {
    db = await createPgDatabase('dbopt_pg');
    for (const sql of PG_SHOP) await db.pool.query(sql);
  });
  afterAll(async () => {
    await db?.drop();
  });

  adapterContract('postgres (pg Pool)', {
    adapter: () => postgresAdapter({ pool: db.pool }),
    selectiveRead: 'SELECT * FROM orders WHERE id % 20000 = 0',
    write: 'DELETE FROM orders WHERE id = 1',
  });

  it('explains a selective filter on a large table as a full scan to fix', async () => {
    const analyzer = createQueryAnalyzer({ adapter: postgresAdapter({ pool: db.pool }) });
    const report = await analyzer.explain('SELECT * FROM orders WHERE user_id = $1', [42]);
    expect(report.plan.kind).toBe('scan');
    expect(report.plan.access).toBe('full');
    expect(report.plan.table).toBe('orders');
    expect(report.findings.map((f) => [f.kind, f.table])).toContainEqual(['full-scan', 'orders']);
    expect(report.totalMs).toBeUndefined();
  });

  it('with analyze: real rows and time, and row estimates 10x off are reported', async () => {
    const analyzer = createQueryAnalyzer({ adapter: postgresAdapter({ pool: db.pool }) });
    // a and b are perfectly correlated: the planner multiplies 1/100 by 1/100.
    const report = await analyzer.explain('SELECT id FROM orders WHERE a = 1 AND b = 1', [], {
      analyze: true,
    });
    expect(report.totalMs).toBeGreaterThan(0);
    expect(report.rows).toBe(2000);
    const estimate = report.findings.find((f) => f.kind === 'row-estimate');
    expect(estimate?.table).toBe('orders');
    expect(estimate?.suggestion).toMatch(/CREATE STATISTICS/);
  });

  it('reports a sort that spills to disk', async () => {
    const analyzer = createQueryAnalyzer({ adapter: postgresAdapter({ pool: db.pool }) });
    const report = await analyzer.explain('SELECT * FROM orders ORDER BY note', [], { analyze: true });
    expect(report.findings.map((f) => f.kind)).toContain('sort-spill');
  });

  it('reports a nested loop over a large input (on a pg Client with hash and merge joins off)', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('SET enable_hashjoin = off');
      await client.query('SET enable_mergejoin = off');
      const analyzer = createQueryAnalyzer({ adapter: postgresAdapter({ pool: client }) });
      const report = await analyzer.explain(
        "SELECT o.id, u.email FROM orders o JOIN users u ON u.id = o.user_id WHERE o.status = 'paid'",
        [],
        { analyze: true },
      );
      expect(report.rows).toBe(50000);
      expect(report.plan).toMatchObject({ kind: 'join', joinType: 'nested-loop' });
      expect(report.findings.map((f) => [f.kind, f.table])).toContainEqual(['nested-loop', 'users']);
    } finally {
      await client.query('RESET ALL');
      client.release();
    }
  });

  it('refuses to analyze a write unless allowed, and rolls it back when allowed', async () => {
    const analyzer = createQueryAnalyzer({ adapter: postgresAdapter({ pool: db.pool }) });
    await expect(
      analyzer.explain('DELETE FROM orders WHERE id < 100', [], { analyze: true }),
    ).rejects.toMatchObject({
      code: 'NOA_DBOPT_WRITE_NOT_ALLOWED',
    });
    const report = await analyzer.explain('DELETE FROM orders WHERE id <= $1', [1000], {
      analyze: true,
      allowWrites: true,
    });
    expect(report.plan.kind).toBe('modify');
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM orders');
    expect(rows[0].n).toBe(200000);
    // A write with a data-modifying CTE is a write too.
    await expect(
      analyzer.explain('WITH d AS (DELETE FROM orders WHERE id = 1 RETURNING id) SELECT * FROM d', [], {
        analyze: true,
      }),
    ).rejects.toMatchObject({ code: 'NOA_DBOPT_WRITE_NOT_ALLOWED' });
  });

  it('recommends indexes proven with HypoPG and creates none unless asked', async () => {
    const adapter = postgresAdapter({ pool: db.pool });
    const countIndexes = async () =>
      (await db.pool.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = 'public'`)).rows[0]
        .n;
    const before = await countIndexes();
    const recs = await recommendIndexes({
      adapter,
      workload: [
        { sql: 'SELECT * FROM orders WHERE user_id = $1', params: [42], calls: 100 },
        { sql: 'SELECT * FROM orders WHERE user_id = $1 AND status = $2', params: [42, 'paid'], calls: 10 },
        {
          sql: 'SELECT o.id FROM users u JOIN orders o ON o.user_id = u.id WHERE u.email = $1',
          params: ['user7@example.com'],
          calls: 50,
        },
        { sql: 'SELECT id FROM orders ORDER BY created_at DESC LIMIT 20', calls: 20 },
      ],
    });
    expect(await countIndexes()).toBe(before);
    const keys = recs.map((r) => `${r.table}(${r.columns.join(',')})`);
    expect(keys.some((k) => k.startsWith('orders(user_id'))).toBe(true);
    expect(keys).toContain('users(email)');
    expect(keys).toContain('orders(created_at)');
    for (const r of recs) {
      expect(r.proof).toBe('hypopg');
      expect(r.improvementPct).toBeGreaterThanOrEqual(30);
      expect(r.costAfter).toBeLessThan(r.costBefore);
      expect(r.ddl).toMatch(/^CREATE INDEX CONCURRENTLY IF NOT EXISTS/);
      expect(r.applied).toBe(false);
    }
    // One index serves both user_id statements: as few indexes as possible.
    expect(keys.filter((k) => k.startsWith('orders(user_id')).length).toBe(1);
  });

  it('orders the columns of a multi-column candidate by selectivity, most selective first', async () => {
    await db.pool.query('CREATE TABLE visits (id int PRIMARY KEY, site int NOT NULL, page int NOT NULL)');
    // site: 100 values, page: 1000 values, independent; both together keep about 2 rows of 200 000.
    await db.pool.query(
      'INSERT INTO visits SELECT g, g % 100, (g / 100) % 1000 FROM generate_series(1, 200000) g',
    );
    await db.pool.query('ANALYZE visits');
    const recs = await recommendIndexes({
      adapter: postgresAdapter({ pool: db.pool }),
      workload: [{ sql: 'SELECT id FROM visits WHERE site = $1 AND page = $2', params: [7, 42] }],
    });
    expect(recs.map((r) => [r.table, r.columns])).toEqual([['visits', ['page', 'site']]]);
  });

  it('reads the workload from pg_stat_statements and applies with CREATE INDEX CONCURRENTLY', async () => {
    await db.pool.query(
      'CREATE TABLE events (id bigint PRIMARY KEY, kind int NOT NULL, payload text NOT NULL)',
    );
    await db.pool.query(
      `INSERT INTO events SELECT g, g % 5000, md5(g::text) FROM generate_series(1, 100000) g`,
    );
    await db.pool.query('ANALYZE events');
    for (let i = 0; i < 5; i++) await db.pool.query('SELECT payload FROM events WHERE kind = $1', [i]);
    const recs = await recommendIndexes({
      adapter: postgresAdapter({ pool: db.pool }),
      workload: 'pg_stat_statements',
      apply: true,
    });
    const rec = recs.find((r) => r.table === 'events');
    expect(rec?.columns).toEqual(['kind']);
    expect(rec?.applied).toBe(true);
    expect(rec?.queries[0]).toMatch(/FROM events WHERE kind = \$1/);
    const { rows } = await db.pool.query(
      `SELECT indexdef FROM pg_indexes WHERE tablename = 'events' AND indexname LIKE 'noa_%'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].indexdef).toMatch(/\(kind\)/);
  });

  it('wrap(pool): captures slow queries with redacted params and a bounded plan capture', async () => {
    const analyzer = createQueryAnalyzer({ adapter: postgresAdapter({ pool: db.pool }), slowQueryMs: 250 });
    const pool = analyzer.wrap(db.pool);
    const plans: unknown[] = [];
    analyzer.on('plan', (q) => plans.push(q.plan));
    for (let i = 0; i < 3; i++) {
      await pool.query('SELECT pg_sleep($1::float8), $2::text AS secret', ['0.3', 'hunter2']);
    }
    await pool.query('SELECT 1');
    await analyzer.close();
    const slow = analyzer.slowQueries();
    expect(slow).toHaveLength(3);
    expect(slow[0]!.params).toEqual(['<string:3>', '<string:7>']);
    expect(JSON.stringify(slow)).not.toContain('hunter2');
    expect(slow[0]!.durationMs).toBeGreaterThanOrEqual(250);
    // One plan per fingerprint per interval.
    expect(plans).toHaveLength(1);
    expect(slow[0]!.plan?.operation).toBe('Result');
    const stats = analyzer.stats();
    expect(stats.find((s) => s.fingerprint === slow[0]!.fingerprint)).toMatchObject({
      calls: 3,
      slowCalls: 3,
    });
    expect(stats.reduce((n, s) => n + s.calls, 0)).toBe(4);
  });

  it('wrap(pool): the error message of a failed statement is redacted too (the database quotes the bad value)', async () => {
    const analyzer = createQueryAnalyzer({ adapter: postgresAdapter({ pool: db.pool }), slowQueryMs: 0 });
    const pool = analyzer.wrap(db.pool);
    await expect(pool.query('SELECT $1::int AS n', ['hunter2'])).rejects.toThrow(/hunter2/);
    await expect(pool.query("SELECT 'swordfish'::int AS n")).rejects.toThrow(/swordfish/);
    await analyzer.close();
    const errors = analyzer.slowQueries().map((q) => q.error);
    expect(errors).toEqual([
      'invalid input syntax for type integer: "?"',
      'invalid input syntax for type integer: "?"',
    ]);

    const open = createQueryAnalyzer({
      adapter: postgresAdapter({ pool: db.pool }),
      slowQueryMs: 0,
      redactParams: false,
    });
    await open
      .wrap(db.pool)
      .query('SELECT $1::int AS n', ['hunter2'])
      .catch(() => {});
    await open.close();
    expect(open.slowQueries()[0]!.error).toBe('invalid input syntax for type integer: "hunter2"');
  });

  it('wrap(pool): plan capture is sampled (planSampleRate) and capped per minute (maxPlansPerMinute)', async () => {
    const run = async (options: { planSampleRate?: number; maxPlansPerMinute?: number }) => {
      const analyzer = createQueryAnalyzer({
        adapter: postgresAdapter({ pool: db.pool }),
        slowQueryMs: 0,
        planIntervalMs: 0,
        ...options,
      });
      let plans = 0;
      analyzer.on('plan', () => plans++);
      const pool = analyzer.wrap(db.pool);
      for (let i = 0; i < 5; i++) {
        await pool.query('SELECT count(*) FROM users WHERE id < $1', [i]);
        await new Promise((resolve) => setTimeout(resolve, 50)); // one capture at a time: let it finish
      }
      await analyzer.close();
      expect(analyzer.slowQueries()).toHaveLength(5);
      return plans;
    };
    expect(await run({ maxPlansPerMinute: 2 })).toBe(2);
    expect(await run({ planSampleRate: 0 })).toBe(0);
  });

  it('wrap(pool) + N+1 detector: a loop of lookups is reported, a batched query and pooled clients too', async () => {
    const reports: N1Report[] = [];
    const n1 = createN1Detector({ onDetect: (r) => reports.push(r) });
    const analyzer = createQueryAnalyzer({ adapter: postgresAdapter({ pool: db.pool }), n1 });
    const pool = analyzer.wrap(db.pool);
    await n1.run(async () => {
      const { rows: users } = await pool.query('SELECT id FROM users ORDER BY id LIMIT 5');
      for (const u of users) await pool.query('SELECT * FROM orders WHERE user_id = $1', [u.id]);
      await pool.query('SELECT * FROM orders WHERE user_id = ANY($1)', [
        users.map((u: { id: number }) => u.id),
      ]);
    });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ count: 5, sql: 'SELECT * FROM orders WHERE user_id = $1' });
    expect(reports[0]!.callSite).toMatch(/postgres\.int\.test\.ts:\d+:\d+/);

    const client = await pool.connect();
    try {
      await n1.run(async () => {
        for (const id of [1, 2, 3]) await client.query('SELECT email FROM users WHERE id = $1', [id]);
      });
    } finally {
      client.release();
    }
    expect(reports).toHaveLength(2);
    expect(reports[1]!.count).toBe(3);
  });

  it('@noa/connection-pool: analyze and HypoPG sessions stay on one borrowed connection under concurrent use', async () => {
    const url = new URL(serviceUrl('postgres'));
    url.pathname = `/${db.name}`;
    const pool = createPool({ driver: postgresDriver({ primary: url.toString() }), max: 4 });
    try {
      const analyzer = createQueryAnalyzer({ adapter: postgresAdapter({ pool }) });
      /** Runs `fn` while six workers keep the pool's connections changing hands. */
      const withTraffic = async <T>(fn: () => Promise<T>): Promise<T> => {
        let done = false;
        const workers = Array.from({ length: 6 }, async () => {
          while (!done) await pool.query('SELECT 1');
        });
        try {
          return await fn();
        } finally {
          done = true;
          await Promise.all(workers);
        }
      };
      // Other traffic on the pool while writes are analyzed: every statement of one analyze must
      // run on the connection that holds its transaction, or the write would be committed.
      const reports = await withTraffic(() =>
        Promise.all(
          [10, 20, 30, 40, 50, 60].map((id) =>
            analyzer.explain('DELETE FROM orders WHERE id = $1', [id], { analyze: true, allowWrites: true }),
          ),
        ),
      );
      expect(reports.map((r) => r.plan.kind)).toEqual(Array(6).fill('modify'));
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM orders');
      expect(rows[0].n).toBe(200000);
      const idle = await db.pool.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'`,
        [db.name],
      );
      expect(idle.rows[0].n).toBe(0);
      // HypoPG indexes live in one backend: the advisor must cost on the connection that made them.
      const recs = await withTraffic(() =>
        recommendIndexes({
          adapter: postgresAdapter({ pool }),
          workload: [{ sql: 'SELECT * FROM orders WHERE user_id = $1', params: [42], calls: 10 }],
        }),
      );
      expect(recs.map((r) => [r.table, r.columns, r.proof])).toEqual([['orders', ['user_id'], 'hypopg']]);
    } finally {
      await pool.close();
    }
  });

  it('wrap() on a @noa/connection-pool Pool: pool.query, acquire() and transaction() are all seen', async () => {
    const url = new URL(serviceUrl('postgres'));
    url.pathname = `/${db.name}`;
    const raw = createPool({ driver: postgresDriver({ primary: url.toString() }), max: 2 });
    const reports: N1Report[] = [];
    const n1 = createN1Detector({ onDetect: (r) => reports.push(r) });
    const analyzer = createQueryAnalyzer({ adapter: postgresAdapter({ pool: raw }), n1 });
    const pool = analyzer.wrap(raw);
    try {
      await n1.run(async () => {
        for (const id of [1, 2]) await pool.query('SELECT email FROM users WHERE id = $1', [id]);
        const connection = await pool.acquire();
        try {
          for (const id of [3, 4, 5]) await connection.query('SELECT country FROM users WHERE id = $1', [id]);
        } finally {
          connection.release();
        }
        await pool.transaction(async (tx) => {
          for (const id of [6, 7, 8, 9]) await tx.query('SELECT created_at FROM users WHERE id = $1', [id]);
        });
      });
      expect(reports.map((r) => r.count)).toEqual([2, 3, 4]);
      expect(analyzer.stats().reduce((n, s) => n + s.calls, 0)).toBe(9);
    } finally {
      await raw.close();
    }
  });

  it('never runs a second statement: explain and slow-query plan capture take one statement', async () => {
    await db.pool.query('CREATE TABLE counters (n int NOT NULL)');
    await db.pool.query('INSERT INTO counters VALUES (0)');
    const analyzer = createQueryAnalyzer({ adapter: postgresAdapter({ pool: db.pool }), slowQueryMs: 250 });
    for (const sql of [
      'SELECT 1; UPDATE counters SET n = n + 100',
      // With standard strings a backslash does not escape the quote: this is two statements too.
      "SELECT 'a\\'; UPDATE counters SET n = n + 100; -- '",
    ]) {
      await expect(analyzer.explain(sql), sql).rejects.toMatchObject({ code: 'NOA_DBOPT_INVALID_SQL' });
    }
    await expect(
      recommendIndexes({
        adapter: postgresAdapter({ pool: db.pool }),
        workload: [{ sql: 'SELECT * FROM orders WHERE user_id = 5; UPDATE counters SET n = n + 100' }],
      }),
    ).rejects.toMatchObject({ code: 'NOA_DBOPT_INVALID_SQL' });
    // The application runs its two statements once; capturing the plan must not run them again.
    const pool = analyzer.wrap(db.pool);
    await pool.query('SELECT pg_sleep(0.3); UPDATE counters SET n = n + 1');
    await analyzer.close();
    expect(analyzer.slowQueries()).toHaveLength(1);
    const { rows } = await db.pool.query('SELECT n FROM counters');
    expect(rows[0].n).toBe(1);
    // One statement with a trailing semicolon is still one statement.
    expect((await analyzer.explain('SELECT n FROM counters;')).plan.table).toBe('counters');
  });

  it('faults: a connection killed during analyze rejects cleanly, and the pool keeps working', async () => {
    const analyzer = createQueryAnalyzer({ adapter: postgresAdapter({ pool: db.pool }) });
    await expect(
      analyzer.explain('SELECT pg_terminate_backend(pg_backend_pid())', [], { analyze: true }),
    ).rejects.toThrow();
    const report = await analyzer.explain('SELECT count(*) FROM users', [], { analyze: true });
    expect(report.rows).toBe(1);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state LIKE 'idle in transaction%'`,
      [db.name],
    );
    expect(rows[0].n).toBe(0);
  });

  it('faults: a failing plan capture never breaks the wrapped query', async () => {
    const errors: unknown[] = [];
    const analyzer = createQueryAnalyzer({ adapter: postgresAdapter({ pool: db.pool }), slowQueryMs: 0 });
    analyzer.on('error', (e) => errors.push(e));
    const pool = analyzer.wrap(db.pool);
    // EXPLAIN cannot run a transaction-control statement: the capture fails, the statement does not.
    await pool.query('SET application_name = $1', ['noa']).catch(() => {});
    const { rows } = await pool.query('SHOW application_name');
    expect(rows).toHaveLength(1);
    await analyzer.close();
    expect(errors.length).toBeGreaterThan(0);
    expect(analyzer.slowQueries().length).toBeGreaterThanOrEqual(1);
  });
});
