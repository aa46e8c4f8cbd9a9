import {
  createN1Detector,
  createQueryAnalyzer,
  recommendIndexes,
  rewriteQuery,
} from '@noa/database-optimizer';
import { pgliteAdapter } from '@noa/database-optimizer/pglite';

export const title = '@noa/database-optimizer: EXPLAIN findings, N+1 detection, proven index advice (PGlite)';

export async function run(): Promise<void> {
  // PostgreSQL compiled to WASM, in process: no server needed.
  await using adapter = await pgliteAdapter();
  await adapter.db.exec(`
    CREATE TABLE authors (id int PRIMARY KEY, name text NOT NULL);
    CREATE TABLE books (id int PRIMARY KEY, author_id int NOT NULL, title text NOT NULL, year int NOT NULL);
    INSERT INTO authors SELECT g, 'author ' || g FROM generate_series(1, 2000) g;
    INSERT INTO books SELECT g, 1 + g % 2000, 'book ' || g, 1900 + g % 120 FROM generate_series(1, 40000) g;
    ANALYZE;
  `);

  const n1 = createN1Detector({
    onDetect: (r) => console.log(`  N+1: ${r.count}× "${r.sql}" from one call site in "${r.scope}"`),
  });
  const analyzer = createQueryAnalyzer({ adapter, n1 });

  const report = await analyzer.explain('SELECT * FROM books WHERE author_id = $1', [42], { analyze: true });
  console.log(
    `  explain: ${report.plan.operation} on ${report.plan.table}, ${report.rows} rows in ${report.totalMs?.toFixed(1)} ms`,
  );
  for (const f of report.findings) console.log(`  finding [${f.severity}] ${f.kind}: ${f.detail}`);

  const db = analyzer.wrap(adapter.db);
  await n1.run(
    async () => {
      const { rows } = await db.query<{ author_id: number }>(
        'SELECT author_id FROM books ORDER BY id LIMIT 5',
      );
      for (const book of rows) await db.query('SELECT name FROM authors WHERE id = $1', [book.author_id]);
    },
    { label: 'list books' },
  );

  const recs = await recommendIndexes({
    adapter,
    workload: [
      { sql: 'SELECT * FROM books WHERE author_id = $1', params: [42], calls: 500 },
      { sql: 'SELECT title FROM books WHERE year = $1 ORDER BY title LIMIT 10', params: [1999], calls: 20 },
    ],
  });
  for (const r of recs) {
    console.log(
      `  index ${r.table}(${r.columns.join(', ')}): planner cost −${r.improvementPct}% (${r.proof}) → ${r.ddl}`,
    );
  }

  const [rewrite] = rewriteQuery(
    'SELECT id FROM books WHERE author_id NOT IN (SELECT id FROM authors WHERE id > 10)',
  );
  console.log(`  rewrite ${rewrite?.rule}: ${rewrite?.after}`);
}
