/**
 * The per-statement cost of the analyzer's wrap() and the N+1 detector, measured against the same
 * client without them. The client is an in-process stub that answers at once, so the difference
 * is our overhead alone, not the database's time.
 */
import { type BenchTable, compare, formatDuration, renderText } from '@noa/testkit';
import { createN1Detector, createQueryAnalyzer, loadParser } from '../src/index.js';
import { postgresAdapter } from '../src/postgres.js';

const quick = process.env.NOA_BENCH_QUICK === '1';
const PER_OP = 100;

export async function n1Bench(): Promise<BenchTable[]> {
  await loadParser();
  const result = { rows: [{ id: 1 }], rowCount: 1 };
  const client = { query: (_sql: string, _params?: unknown[]) => Promise.resolve(result) };
  const n1 = createN1Detector({ onDetect: () => {} });
  const adapter = postgresAdapter({ pool: client });
  const wrappedOnly = createQueryAnalyzer({ adapter }).wrap(client);
  const wrapped = createQueryAnalyzer({ adapter, n1 }).wrap(client);
  const statements = Array.from({ length: PER_OP }, (_, i) => `SELECT * FROM table_${i % 20} WHERE id = $1`);
  const distinct = Array.from({ length: PER_OP }, (_, i) => `SELECT * FROM other_${i} WHERE id = $1`);

  // One op = a unit of work issuing 100 statements (20 shapes x 5 ids), like a request.
  const unit =
    (db: typeof client, list = statements) =>
    async () => {
      for (let i = 0; i < PER_OP; i++) await db.query(list[i]!, [i]);
    };
  const { table, byTask } = await compare(
    `N+1 detector and wrap(): a unit of work of ${PER_OP} statements on an in-process stub client`,
    {
      'stub client, not wrapped': unit(client),
      'wrap() (stats + slow-query capture)': unit(wrappedOnly),
      'wrap() + N+1 detector, 100 different statements': () => n1.run(unit(wrapped, distinct)),
      'wrap() + N+1 detector, 20 statements x 5 (all N+1)': () => n1.run(unit(wrapped)),
    },
    { id: 'dbopt-n1-overhead', timeMs: quick ? 150 : 600, rounds: quick ? 2 : 5, print: false },
  );
  const base = 1e9 / byTask['stub client, not wrapped']!.opsPerSec;
  const perStatement = (task: string) => (1e9 / byTask[task]!.opsPerSec - base) / PER_OP;
  table.columns.push('overhead / statement');
  table.rows = table.rows.map((row) => [
    ...row,
    row[0] === 'stub client, not wrapped' ? '—' : formatDuration(perStatement(String(row[0]))),
  ]);
  table.notes = [
    ...(table.notes ?? []),
    'overhead / statement: extra time per statement against the unwrapped stub (the N+1 rows include wrap())',
    'goal: N+1 detection under 20 µs per statement',
  ];
  console.log(renderText(table));
  return [table];
}
