/** One benchmark result table: what is printed, stored as JSON and rendered into READMEs. */
export interface BenchTable {
  /** Stable id, used by README markers `<!-- bench:ID -->`. */
  id: string;
  title: string;
  columns: string[];
  rows: (string | number)[][];
  notes?: string[];
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

export function formatDuration(ns: number): string {
  if (ns < 1_000) return `${ns.toFixed(0)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(2)} µs`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(2)} ms`;
  return `${(ns / 1_000_000_000).toFixed(2)} s`;
}

const cell = (value: string | number) => (typeof value === 'number' ? formatNumber(value) : value);

/** Plain-text rendering for the terminal. */
export function renderText(table: BenchTable): string {
  const rows = [table.columns, ...table.rows.map((row) => row.map(cell))];
  const widths = table.columns.map((_, i) => Math.max(...rows.map((row) => String(row[i] ?? '').length)));
  const line = (row: (string | number)[]) =>
    row
      .map((value, i) => (i === 0 ? String(value).padEnd(widths[i]!) : String(value).padStart(widths[i]!)))
      .join('  ');
  const out = [`\n${table.title}`, line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of rows.slice(1)) out.push(line(row));
  for (const note of table.notes ?? []) out.push(`  ${note}`);
  return out.join('\n');
}

/** Markdown rendering for READMEs. */
export function renderMarkdown(table: BenchTable): string {
  const out = [
    `| ${table.columns.join(' | ')} |`,
    `| ${table.columns.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
  ];
  for (const row of table.rows) out.push(`| ${row.map(cell).join(' | ')} |`);
  if (table.notes?.length) out.push('', ...table.notes.map((note) => `_${note}_`));
  return out.join('\n');
}
