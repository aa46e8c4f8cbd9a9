import { randomBytes } from 'node:crypto';

let counter = 0;

/**
 * A name unique to this process and call, safe as a Redis key prefix, a database, queue or topic
 * name: lowercase letters, digits and underscores, at most 48 characters.
 */
export function uniqueName(label: string): string {
  const clean = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 24);
  counter += 1;
  return `noa_${clean}_${process.pid}_${counter}_${randomBytes(3).toString('hex')}`;
}
