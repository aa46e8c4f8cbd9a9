import { invariant, NoaError } from '@noa/core';
import { loadParser, pgParser } from './parsers.js';
import { tokenize } from './tokens.js';

/** Throws `NOA_DBOPT_INVALID_SQL` unless `sql` is a non-empty string. */
export function assertSql(sql: unknown, where: string): asserts sql is string {
  invariant(
    typeof sql === 'string' && sql.trim() !== '',
    `${where}: sql must be a non-empty string`,
    'NOA_DBOPT_INVALID_SQL',
  );
}

/** Statements in `sql` by the dialect's rules (PostgreSQL's own parser; MySQL's quoting for tokens). */
async function statementCount(sql: string, dialect: 'postgres' | 'mysql'): Promise<number> {
  if (dialect === 'postgres') {
    await loadParser();
    try {
      return pgParser().parseSync(sql).stmts.length;
    } catch {
      // The server parses the whole text before running any of it: what cannot be parsed cannot run.
      return 1;
    }
  }
  let count = 0;
  let empty = true;
  for (const t of tokenize(sql)) {
    if (t.kind === 'punct' && t.text === ';') {
      if (!empty) count++;
      empty = true;
    } else empty = false;
  }
  return empty ? count : count + 1;
}

/**
 * Throws `NOA_DBOPT_INVALID_SQL` when `sql` holds more than one statement: EXPLAIN applies to the
 * first, and a client that sends the text as one simple query would run the others for real.
 */
export async function assertSingleStatement(sql: string, dialect: 'postgres' | 'mysql'): Promise<void> {
  if ((await statementCount(sql, dialect)) > 1) {
    throw new NoaError(
      'NOA_DBOPT_INVALID_SQL',
      'explain takes one statement at a time: EXPLAIN applies to the first, and the others would run for real.',
    );
  }
}
