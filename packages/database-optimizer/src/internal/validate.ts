import { invariant } from '@noa/core';

/** Throws `NOA_DBOPT_INVALID_SQL` unless `sql` is a non-empty string. */
export function assertSql(sql: unknown, where: string): asserts sql is string {
  invariant(
    typeof sql === 'string' && sql.trim() !== '',
    `${where}: sql must be a non-empty string`,
    'NOA_DBOPT_INVALID_SQL',
  );
}
