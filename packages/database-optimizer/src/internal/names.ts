import { createHash } from 'node:crypto';

/** `noa_<table>_<columns>_idx`, shortened with a hash suffix to fit the database's limit. */
export function indexName(table: string, columns: readonly string[], maxLength: number): string {
  const base =
    `noa_${table.replace(/\W+/g, '_')}_${columns.join('_').replace(/\W+/g, '_')}_idx`.toLowerCase();
  if (base.length <= maxLength) return base;
  const suffix = createHash('sha1').update(base).digest('hex').slice(0, 8);
  return `${base.slice(0, maxLength - 9)}_${suffix}`;
}
