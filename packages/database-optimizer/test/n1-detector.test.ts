import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createN1Detector, createQueryAnalyzer, type N1Report } from '../src/index.js';
import { type PgliteAdapter, pgliteAdapter } from '../src/pglite.js';

let adapter: PgliteAdapter;
beforeAll(async () => {
  adapter = await pgliteAdapter();
  await adapter.db.exec(`
    CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL);
    CREATE TABLE books (id int PRIMARY KEY, author_id int NOT NULL, title text NOT NULL);
    INSERT INTO authors SELECT g, 'author ' || g FROM generate_series(1, 50) g;
    INSERT INTO books SELECT g, 1 + g % 50, 'book ' || g FROM generate_series(1, 200) g;
  `);
});
afterAll(async () => {
  await adapter?.close();
});

function setup(threshold?: number) {
  const reports: N1Report[] = [];
  const n1 = createN1Detector({ ...(threshold ? { threshold } : {}), onDetect: (r) => reports.push(r) });
  const db = createQueryAnalyzer({ adapter, n1 }).wrap(adapter.db);
  return { reports, n1, db };
}

const authorOf = (db: PgliteAdapter['db'], id: number) =>
  db.query('SELECT name FROM authors WHERE id = $1', [id]);

describe('createN1Detector on PGlite', () => {
  it('reports a loop of lookups, with the call site in your code', async () => {
    const { reports, n1, db } = setup();
    const result = await n1.run(
      async () => {
        const { rows } = await db.query<{ author_id: number }>(
          'SELECT author_id FROM books ORDER BY id LIMIT 6',
        );
        for (const book of rows) await authorOf(db, book.author_id);
        return rows.length;
      },
      { label: 'list books' },
    );
    expect(result).toBe(6);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      scope: 'list books',
      count: 6,
      sql: 'SELECT name FROM authors WHERE id = $1',
    });
    expect(reports[0]!.callSite).toMatch(/n1-detector\.test\.ts:\d+:\d+$/);
    expect(n1.detections).toBe(1);
  });

  it('reports lookups fired concurrently with Promise.all and inlined constants', async () => {
    const { reports, n1, db } = setup();
    await n1.run(async () => {
      await Promise.all([1, 2, 3].map((id) => authorOf(db, id)));
      for (const id of [4, 5, 6]) await db.query(`SELECT title FROM books WHERE id = ${id}`);
    });
    expect(reports.map((r) => r.count)).toEqual([3, 3]);
  });

  it('zero false positives: batched queries, different statements, different call sites, repeats, other scopes', async () => {
    const { reports, n1, db } = setup();
    await n1.run(async () => {
      await db.query('SELECT name FROM authors WHERE id = ANY($1)', [[1, 2, 3]]); // one batched query
      for (const sql of [
        'SELECT count(*) FROM authors',
        'SELECT count(*) FROM books',
        'SELECT max(id) FROM books',
      ]) {
        await db.query(sql); // a loop of different statements
      }
      await authorOf(db, 1); // the same statement from two different places...
      await db.query('SELECT name FROM authors WHERE id = $1', [2]);
      for (let i = 0; i < 3; i++) await authorOf(db, 7); // ...and the same lookup repeated with the same value
    });
    await authorOf(db, 8); // outside any unit of work
    await authorOf(db, 9);
    await n1.run(() => authorOf(db, 10)); // two units of work with one lookup each
    await n1.run(() => authorOf(db, 11));
    expect(reports).toEqual([]);
  });

  it('honours the threshold', async () => {
    const { reports, n1, db } = setup(4);
    await n1.run(async () => {
      for (const id of [1, 2, 3]) await authorOf(db, id);
    });
    expect(reports).toEqual([]);
    await n1.run(async () => {
      for (const id of [1, 2, 3, 4]) await authorOf(db, id);
    });
    expect(reports).toHaveLength(1);
    expect(() => createN1Detector({ threshold: 1 })).toThrow(
      expect.objectContaining({ code: 'NOA_INVALID_OPTION' }),
    );
  });

  it('Express middleware: one unit of work per request', async () => {
    const { reports, n1, db } = setup();
    const app = express();
    app.use(n1.middleware());
    app.get('/books', async (_req, res) => {
      const { rows } = await db.query<{ author_id: number }>(
        'SELECT author_id FROM books ORDER BY id LIMIT 3',
      );
      const names = [];
      for (const b of rows) names.push((await authorOf(db, b.author_id)).rows[0]);
      res.json(names);
    });
    app.get('/batched', async (_req, res) => {
      res.json((await db.query('SELECT name FROM authors WHERE id = ANY($1)', [[1, 2, 3]])).rows);
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${base}/books`)).status).toBe(200);
      expect((await fetch(`${base}/batched`)).status).toBe(200);
      await fetch(`${base}/books`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(reports.map((r) => [r.scope, r.count])).toEqual([
      ['GET /books', 3],
      ['GET /books', 3],
    ]);
  });

  it('Fastify plugin: one unit of work per request', async () => {
    const { reports, n1, db } = setup();
    const app = Fastify();
    await app.register(n1.fastify);
    app.get('/books', async () => {
      for (const id of [1, 2]) await authorOf(db, id);
      return { ok: true };
    });
    app.get('/one', async () => (await authorOf(db, 3)).rows);
    expect((await app.inject({ method: 'GET', url: '/books' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/one' })).statusCode).toBe(200);
    await app.close();
    expect(reports.map((r) => [r.scope, r.count])).toEqual([['GET /books', 2]]);
  });
});
