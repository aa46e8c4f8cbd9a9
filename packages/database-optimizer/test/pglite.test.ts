import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createN1Detector, createQueryAnalyzer, type N1Report, recommendIndexes } from '../src/index.js';
import { type PgliteAdapter, pgliteAdapter } from '../src/pglite.js';
import { adapterContract } from './contract.js';

let adapter: PgliteAdapter;
beforeAll(async () => {
  adapter = await pgliteAdapter();
  await adapter.db.exec(`
    CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL, bucket int NOT NULL, price int NOT NULL);
    INSERT INTO items SELECT g, 'sku-' || g, g % 2000, g % 97 FROM generate_series(1, 20000) g;
    ANALYZE items;
  `);
});
afterAll(async () => {
  await adapter?.close();
});

adapterContract('pglite (embedded PostgreSQL)', {
  adapter: () => adapter,
  selectiveRead: 'SELECT * FROM items WHERE bucket = 7',
  write: 'UPDATE items SET price = 0 WHERE id = 1',
});

describe('pgliteAdapter (embedded PostgreSQL)', () => {
  it('proves index advice with real indexes in a rolled-back transaction', async () => {
    const recs = await recommendIndexes({
      adapter,
      workload: [
        { sql: 'SELECT * FROM items WHERE bucket = $1', params: [7], calls: 10 },
        { sql: 'SELECT * FROM items WHERE bucket = $1 ORDER BY price LIMIT 5', params: [9], calls: 1 },
        { sql: 'SELECT * FROM items WHERE sku = $1', params: ['sku-5'], calls: 1 },
      ],
    });
    const keys = recs.map((r) => `${r.table}(${r.columns.join(',')})`);
    expect(keys).toContain('items(sku)');
    expect(keys.filter((k) => k.startsWith('items(bucket'))).toHaveLength(1);
    for (const r of recs) {
      expect(r.proof).toBe('rollback');
      expect(r.improvementPct).toBeGreaterThanOrEqual(30);
    }
    const { rows } = await adapter.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'items'`,
    );
    expect(rows[0]!.n).toBe(1); // only the primary key: nothing was left behind
  });

  it('wrap(db): statistics per fingerprint and N+1 detection on the embedded database', async () => {
    const reports: N1Report[] = [];
    const n1 = createN1Detector({ onDetect: (r) => reports.push(r) });
    const analyzer = createQueryAnalyzer({ adapter, n1, slowQueryMs: 10_000 });
    const db = analyzer.wrap(adapter.db);
    await n1.run(async () => {
      for (let id = 1; id <= 4; id++) await db.query('SELECT sku FROM items WHERE id = $1', [id]);
    });
    expect(reports).toHaveLength(1);
    expect(reports[0]!.count).toBe(4);
    expect(analyzer.stats()[0]).toMatchObject({ calls: 4, sql: 'SELECT sku FROM items WHERE id = $1' });
    // The proxy still behaves like the PGlite instance (private fields included).
    expect((await db.exec('SELECT 1'))[0]!.rows).toHaveLength(1);
  });
});
