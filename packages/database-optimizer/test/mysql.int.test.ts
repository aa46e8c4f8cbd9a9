import { requireService, serviceUrl } from '@noa/testkit';
import fc from 'fast-check';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createN1Detector,
  createQueryAnalyzer,
  type N1Report,
  recommendIndexes,
  rewriteQuery,
} from '../src/index.js';
import { mysqlAdapter } from '../src/mysql.js';
import { adapterContract } from './contract.js';
import { createMysqlDatabase } from './helpers.js';

const service = await requireService('mysql');

describe.skipIf(!service.available)('mysqlAdapter (real MariaDB, 150k seeded rows)', () => {
  let db: Awaited<ReturnType<typeof createMysqlDatabase>>;
  beforeAll(async () => {
    db = await createMysqlDatabase('dbopt_my');
    await db.pool.query(
      'CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(64) NOT NULL, country CHAR(2) NOT NULL) ENGINE=InnoDB',
    );
    await db.pool.query(
      "INSERT INTO users SELECT seq, CONCAT('user', seq, '@example.com'), ELT(1 + seq % 5, 'de', 'fr', 'us', 'jp', 'br') FROM seq_1_to_30000",
    );
    await db.pool.query(
      'CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, status VARCHAR(16) NOT NULL, total DECIMAL(10,2) NOT NULL, created_at DATETIME NOT NULL) ENGINE=InnoDB',
    );
    await db.pool.query(
      "INSERT INTO orders SELECT seq, 1 + (seq * 7919) % 30000, ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'cancelled'), (seq % 1000) / 10, NOW() - INTERVAL seq SECOND FROM seq_1_to_120000",
    );
    await db.pool.query('ANALYZE TABLE users, orders');
  });
  afterAll(async () => {
    await db?.drop();
  });

  adapterContract('mysql (mysql2 pool, MariaDB)', {
    adapter: () => mysqlAdapter({ pool: db.pool }),
    selectiveRead: 'SELECT * FROM orders WHERE id % 12000 = 0',
    write: 'DELETE FROM orders WHERE id = 1',
  });

  it('EXPLAIN FORMAT=JSON is normalised; with ANALYZE a selective full scan is reported', async () => {
    const analyzer = createQueryAnalyzer({ adapter: mysqlAdapter({ pool: db.pool }) });
    const estimated = await analyzer.explain('SELECT * FROM orders WHERE user_id = ?', [42]);
    expect(estimated.plan).toMatchObject({ kind: 'scan', access: 'full', table: 'orders', operation: 'ALL' });
    expect(estimated.plan.rowsExamined).toBeGreaterThan(100_000);
    // Without column statistics MariaDB estimates every filter keeps 100%; ANALYZE measures it.
    const measured = await analyzer.explain('SELECT * FROM orders WHERE user_id = ?', [42], {
      analyze: true,
    });
    expect(measured.rows).toBe(4);
    expect(measured.findings.map((f) => [f.kind, f.table])).toContainEqual(['full-scan', 'orders']);
  });

  it('ANALYZE FORMAT=JSON: real rows; a join without an index on the inner side is reported', async () => {
    const analyzer = createQueryAnalyzer({ adapter: mysqlAdapter({ pool: db.pool }) });
    const report = await analyzer.explain(
      "SELECT STRAIGHT_JOIN u.email, o.total FROM users u JOIN orders o ON o.user_id = u.id WHERE u.country = 'de' AND u.id < 200",
      [],
      { analyze: true },
    );
    expect(report.totalMs).toBeGreaterThan(0);
    expect(report.plan.kind).toBe('join');
    const [count] = await db.pool.query(
      "SELECT COUNT(*) AS n FROM users u JOIN orders o ON o.user_id = u.id WHERE u.country = 'de' AND u.id < 200",
    );
    expect(report.rows).toBe(Number((count as { n: number }[])[0]!.n));
    const kinds = report.findings.map((f) => f.kind);
    expect(kinds).toContain('missing-join-index');
    // MariaDB names tables by their alias in its plans.
    expect(report.findings.find((f) => f.kind === 'missing-join-index')?.table).toBe('o');
  });

  it('ANALYZE rows of joins and sorted reads are the real result sizes; a nested loop over a large input is reported', async () => {
    const analyzer = createQueryAnalyzer({ adapter: mysqlAdapter({ pool: db.pool }) });
    const join =
      "SELECT STRAIGHT_JOIN o.id, u.email FROM orders o JOIN users u ON u.id = o.user_id WHERE u.country = 'de'";
    const report = await analyzer.explain(join, [], { analyze: true });
    const [count] = await db.pool.query(`SELECT COUNT(*) AS n FROM (${join}) AS j`);
    expect(report.rows).toBe(Number((count as { n: number }[])[0]!.n));
    expect(report.plan).toMatchObject({ kind: 'join', joinType: 'nested-loop' });
    // Every order looks its user up through the primary key: indexed, but 120 000 times.
    expect(report.findings.map((f) => [f.kind, f.table])).toEqual([['nested-loop', 'u']]);
    const sorted = await analyzer.explain('SELECT id FROM orders ORDER BY total, id LIMIT 7', [], {
      analyze: true,
    });
    expect(sorted.plan.children[0]?.kind).toBe('sort');
    expect(sorted.rows).toBe(7);
    expect(sorted.findings.map((f) => f.kind)).not.toContain('row-estimate');
  });

  it('never runs a second statement, even on a pool with multipleStatements', async () => {
    const url = new URL(serviceUrl('mysql'));
    url.pathname = `/${db.name}`;
    const multi = mysql.createPool({ uri: url.toString(), connectionLimit: 2, multipleStatements: true });
    try {
      await multi.query('CREATE TABLE counters (n INT NOT NULL)');
      await multi.query('INSERT INTO counters VALUES (0)');
      const analyzer = createQueryAnalyzer({ adapter: mysqlAdapter({ pool: multi }) });
      for (const sql of [
        'SELECT 1; UPDATE counters SET n = n + 100',
        "SELECT 'it''s; one string'; UPDATE counters SET n = n + 100",
        'SELECT 1 # comment ;\n; UPDATE counters SET n = n + 100',
      ]) {
        await expect(analyzer.explain(sql), sql).rejects.toMatchObject({ code: 'NOA_DBOPT_INVALID_SQL' });
      }
      // A semicolon inside a string (MySQL escapes quotes with a backslash) is not a second statement.
      const one = await analyzer.explain("SELECT n FROM counters WHERE 'x\\'; y' <> '';");
      expect(one.plan.table).toBe('counters');
      const [rows] = await multi.query('SELECT n FROM counters');
      expect((rows as { n: number }[])[0]!.n).toBe(0);
    } finally {
      await multi.end();
    }
  });

  it('analyze on a write needs allowWrites and is rolled back', async () => {
    const analyzer = createQueryAnalyzer({ adapter: mysqlAdapter({ pool: db.pool }) });
    await expect(
      analyzer.explain('UPDATE orders SET total = 0', [], { analyze: true }),
    ).rejects.toMatchObject({
      code: 'NOA_DBOPT_WRITE_NOT_ALLOWED',
    });
    await analyzer.explain('UPDATE orders SET total = 0 WHERE id <= ?', [5000], {
      analyze: true,
      allowWrites: true,
    });
    const [rows] = await db.pool.query('SELECT COUNT(*) AS n FROM orders WHERE total = 0');
    expect(Number((rows as { n: number }[])[0]!.n)).toBe(120); // only the seeded zeros (seq % 1000 = 0)
  });

  it('recommends indexes proven on a scratch copy, and leaves the user database alone', async () => {
    const indexCount = async () => {
      const [rows] = await db.pool.query(
        'SELECT COUNT(DISTINCT TABLE_NAME, INDEX_NAME) AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()',
      );
      return Number((rows as { n: number }[])[0]!.n);
    };
    const before = await indexCount();
    const recs = await recommendIndexes({
      adapter: mysqlAdapter({ pool: db.pool }),
      workload: [
        { sql: 'SELECT * FROM orders WHERE user_id = ?', params: [42], calls: 100 },
        { sql: 'SELECT * FROM orders WHERE user_id = ? AND status = ?', params: [42, 'paid'], calls: 10 },
        { sql: 'SELECT id FROM users WHERE email = ?', params: ['user7@example.com'], calls: 10 },
        { sql: 'UPDATE orders SET total = 1 WHERE id = ?', params: [1], calls: 5 },
      ],
    });
    expect(await indexCount()).toBe(before);
    const keys = recs.map((r) => `${r.table}(${r.columns.join(',')})`);
    expect(keys.filter((k) => k.startsWith('orders(user_id'))).toHaveLength(1);
    expect(keys).toContain('users(email)');
    for (const r of recs) {
      expect(r.proof).toBe('scratch-copy');
      expect(r.improvementPct).toBeGreaterThan(90);
      expect(r.ddl).toMatch(/ALGORITHM=INPLACE, LOCK=NONE$/);
    }
    // Copies are named noa_scratch_<hex>_<database>: look for this database's only, since another
    // run on the same server may be in the middle of its own advice.
    const [dbs] = await db.pool.query(
      'SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME RLIKE ?',
      [`^noa_scratch_[0-9a-f]{8}_${db.name}$`],
    );
    expect(dbs).toHaveLength(0);
    // The pooled connection that hosted the scratch copy is back on the user's database.
    const [current] = await db.pool.query('SELECT DATABASE() AS db');
    expect((current as { db: string }[])[0]!.db).toBe(db.name);
  });

  it('estimated mode ranks candidates without trying them', async () => {
    const recs = await recommendIndexes({
      adapter: mysqlAdapter({ pool: db.pool, proof: 'estimated' }),
      workload: [
        { sql: 'SELECT * FROM orders WHERE status = ? ORDER BY created_at LIMIT 10', params: ['paid'] },
      ],
    });
    expect(recs.length).toBeGreaterThan(0);
    expect(recs[0]).toMatchObject({
      proof: 'estimated',
      costAfter: null,
      improvementPct: null,
      table: 'orders',
    });
  });

  it('wrap(pool) with mysql2: slow queries and N+1 through the promise pool', async () => {
    const reports: N1Report[] = [];
    const n1 = createN1Detector({ dialect: 'mysql', onDetect: (r) => reports.push(r) });
    const analyzer = createQueryAnalyzer({ adapter: mysqlAdapter({ pool: db.pool }), slowQueryMs: 250, n1 });
    const pool = analyzer.wrap(db.pool);
    await n1.run(async () => {
      for (const id of [1, 2, 3, 4]) await pool.query('SELECT email FROM users WHERE id = ?', [id]);
      await pool.query('SELECT email FROM users WHERE id IN (?)', [[1, 2, 3, 4]]);
      // Far above the threshold, and the threshold far above a point lookup on a loaded machine.
      await pool.execute('SELECT SLEEP(0.3), ? AS secret', ['hunter2']);
    });
    await analyzer.close();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ count: 4 });
    expect(reports[0]!.sql).toMatch(/WHERE `id` = \?/);
    const slow = analyzer.slowQueries();
    expect(slow).toHaveLength(1);
    expect(slow[0]!.params).toEqual(['<string:7>']);
    expect(slow[0]!.plan).toBeDefined();
  });

  it('wrap() also instruments the callback API of mysql2', async () => {
    const analyzer = createQueryAnalyzer({ adapter: mysqlAdapter({ pool: db.pool }) });
    const callbackPool = analyzer.wrap((db.pool as unknown as { pool: import('mysql2').Pool }).pool);
    const rows = await new Promise<unknown[]>((resolve, reject) =>
      callbackPool.query('SELECT id FROM users WHERE id <= ?', [3], (error, result) =>
        error ? reject(error) : resolve(result as unknown[]),
      ),
    );
    expect(rows).toHaveLength(3);
    await new Promise<void>((resolve, reject) =>
      callbackPool.getConnection((error, connection) => {
        if (error) return reject(error);
        connection.query('SELECT 1', () => {
          connection.release();
          resolve();
        });
      }),
    );
    expect(analyzer.stats().map((s) => s.calls)).toEqual([1, 1]);
    await expect(analyzer.explain('')).rejects.toMatchObject({ code: 'NOA_DBOPT_INVALID_SQL' });
  });

  it('rewrites are equivalent on MariaDB too (random data, NULLs included)', async () => {
    await db.pool.query('CREATE TABLE r1 (id INT PRIMARY KEY, x INT NULL)');
    await db.pool.query('CREATE TABLE r2 (c INT NULL, p INT NOT NULL)');
    const statements = [
      'SELECT id FROM r1 WHERE x NOT IN (SELECT c FROM r2 WHERE p > 1) ORDER BY id',
      'SELECT id FROM r1 WHERE id > 3 AND (x = 1 OR x = 4 OR x = 5) ORDER BY id',
    ].map((sql) => ({ sql, after: rewriteQuery(sql).find((r) => r.after)!.after! }));
    const maybe = fc.option(fc.integer({ min: 0, max: 5 }), { nil: null, freq: 4 });
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.record({ id: fc.integer({ min: 1, max: 40 }), x: maybe }), {
          selector: (r) => r.id,
          maxLength: 15,
        }),
        fc.array(fc.record({ c: maybe, p: fc.integer({ min: 0, max: 3 }) }), { maxLength: 10 }),
        async (r1, r2) => {
          await db.pool.query('DELETE FROM r1');
          await db.pool.query('DELETE FROM r2');
          if (r1.length) await db.pool.query('INSERT INTO r1 VALUES ?', [r1.map((r) => [r.id, r.x])]);
          if (r2.length) await db.pool.query('INSERT INTO r2 VALUES ?', [r2.map((r) => [r.c, r.p])]);
          for (const { sql, after } of statements) {
            const [expected] = await db.pool.query(sql);
            const [actual] = await db.pool.query(after);
            expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
