import { PGlite } from '@electric-sql/pglite';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rewriteQuery } from '../src/index.js';

/**
 * Every rewrite is proven on randomised data: both statements run on PGlite (real PostgreSQL)
 * over random rows, NULLs included, and must return the same rows.
 */
let db: PGlite;
beforeAll(async () => {
  db = new PGlite();
  await db.exec('CREATE TABLE t1 (id int PRIMARY KEY, x int); CREATE TABLE t2 (c int, p int NOT NULL);');
});
afterAll(async () => {
  await db?.close();
});

const maybeInt = fc.option(fc.integer({ min: 0, max: 6 }), { nil: null, freq: 4 });
const dataset = fc.record({
  t1: fc.uniqueArray(fc.record({ id: fc.integer({ min: 1, max: 60 }), x: maybeInt }), {
    selector: (r) => r.id,
    maxLength: 25,
  }),
  t2: fc.array(fc.record({ c: maybeInt, p: fc.integer({ min: 0, max: 5 }) }), { maxLength: 15 }),
});
type Dataset = typeof dataset extends fc.Arbitrary<infer T> ? T : never;

async function load(data: Dataset) {
  await db.exec('TRUNCATE t1; TRUNCATE t2;');
  const lit = (v: number | null) => (v === null ? 'NULL' : String(v));
  if (data.t1.length)
    await db.exec(`INSERT INTO t1 VALUES ${data.t1.map((r) => `(${r.id}, ${lit(r.x)})`).join(', ')}`);
  if (data.t2.length)
    await db.exec(`INSERT INTO t2 VALUES ${data.t2.map((r) => `(${lit(r.c)}, ${r.p})`).join(', ')}`);
}
const rows = async (sql: string) => JSON.stringify((await db.query(sql)).rows);

async function provenEquivalent(sql: string, rule: string) {
  const rewrites = rewriteQuery(sql).filter((r) => r.rule === rule);
  expect(rewrites.length, `${rule} applies to: ${sql}`).toBeGreaterThan(0);
  const after = rewrites.at(-1)!.after!;
  await fc.assert(
    fc.asyncProperty(dataset, async (data) => {
      await load(data);
      expect(await rows(after)).toBe(await rows(sql));
    }),
    { numRuns: 60 },
  );
  return after;
}

describe('rewriteQuery: rules proven equivalent on random data (PGlite)', () => {
  it.each([
    'SELECT id FROM t1 WHERE x NOT IN (SELECT c FROM t2) ORDER BY id',
    'SELECT id FROM t1 WHERE x NOT IN (SELECT c FROM t2 WHERE p > 2 OR p = 0) ORDER BY id',
    'SELECT a.id FROM t1 a WHERE a.id > 3 AND a.x NOT IN (SELECT DISTINCT c FROM t2) ORDER BY a.id',
    'SELECT id FROM t1 WHERE id < 10 OR x NOT IN (SELECT c FROM t2 s WHERE s.p <> 1) ORDER BY id',
    'SELECT id FROM t1 WHERE x NOT IN (SELECT c FROM t2) AND x NOT IN (SELECT p FROM t2) ORDER BY id',
    'SELECT id FROM t1 WHERE NOT (id = 4) AND (x > 1 OR id = 2) AND x NOT IN (SELECT c FROM t2) ORDER BY id',
  ])('not-in-to-not-exists: %s', async (sql) => {
    const after = await provenEquivalent(sql, 'not-in-to-not-exists');
    expect(after).toMatch(/NOT EXISTS/);
    expect(after).not.toMatch(/NOT IN/);
  });

  it.each([
    'SELECT id FROM t1 WHERE x = 1 OR x = 2 OR x = 3 ORDER BY id',
    'SELECT id FROM t1 WHERE id > 2 AND (t1.x = 1 OR t1.x = 5) ORDER BY id',
    'SELECT id FROM t1 WHERE (x = -1 OR x = 4) ORDER BY id',
  ])('or-to-in: %s', async (sql) => {
    expect(await provenEquivalent(sql, 'or-to-in')).toMatch(/x IN \(/);
  });

  it("offset-to-keyset: the same page, given the previous page's last key", async () => {
    const sql = 'SELECT id, x FROM t1 WHERE x IS NOT NULL OR id > 5 ORDER BY id LIMIT 3 OFFSET 6';
    const [rewrite] = rewriteQuery(sql).filter((r) => r.rule === 'offset-to-keyset');
    expect(rewrite?.after).toBe(
      'SELECT id, x FROM t1 WHERE (x IS NOT NULL OR id > 5) AND id > :last_seen ORDER BY id LIMIT 3',
    );
    await fc.assert(
      fc.asyncProperty(dataset, async (data) => {
        await load(data);
        const previous = (await db.query<{ id: number }>(sql.replace('LIMIT 3 OFFSET 6', 'LIMIT 6'))).rows;
        if (previous.length < 6) return;
        const keyset = rewrite!.after!.replace(':last_seen', String(previous.at(-1)!.id));
        expect(await rows(keyset)).toBe(await rows(sql));
      }),
      { numRuns: 60 },
    );
    const desc = rewriteQuery('SELECT * FROM t1 ORDER BY id DESC LIMIT 10 OFFSET 20').find(
      (r) => r.rule === 'offset-to-keyset',
    );
    expect(desc?.after).toBe('SELECT * FROM t1 WHERE id < :last_seen ORDER BY id DESC LIMIT 10');
  });

  it('does not rewrite when the meaning could change', () => {
    for (const sql of [
      'SELECT id FROM t1 WHERE NOT (x NOT IN (SELECT c FROM t2))', // under NOT, NULL and FALSE differ
      'SELECT id FROM t1 WHERE id > 1 AND NOT (id = 2 OR x NOT IN (SELECT c FROM t2))',
      'SELECT x NOT IN (SELECT c FROM t2) AS flag FROM t1', // a value, not a filter
      'SELECT id FROM t1, t2 WHERE x NOT IN (SELECT c FROM t2)', // x's table is ambiguous
      'SELECT id FROM t1 WHERE x NOT IN (SELECT c FROM t2 LIMIT 3)',
      'SELECT id FROM t1 WHERE id = 1 AND x = 1 OR x = 2', // AND binds tighter
      'SELECT id FROM t1 WHERE x = 1 OR id = 2',
    ]) {
      expect(
        rewriteQuery(sql).filter((r) => r.after !== null),
        sql,
      ).toEqual([]);
    }
  });

  it('warns about leading wildcards and SELECT * without rewriting', () => {
    const out = rewriteQuery("SELECT * FROM users WHERE email LIKE '%@example.com'");
    expect(out.map((r) => [r.rule, r.after])).toEqual([
      ['leading-wildcard-like', null],
      ['select-star', null],
    ]);
    expect(rewriteQuery("SELECT count(*) FROM users WHERE email LIKE 'ada%'")).toEqual([]);
    expect(() => rewriteQuery('')).toThrow(expect.objectContaining({ code: 'NOA_DBOPT_INVALID_SQL' }));
  });
});
