import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import type { ShardPool } from './pool.js';

/** A PGlite database usable as a shard pool (it is one: the router recognises PGlite by shape). */
export interface PgliteShard extends ShardPool {
  readonly db: PGlite;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * An embedded PostgreSQL (PGlite, in memory unless `dataDir` is given) to use as a shard or as the
 * shard-map database: for development, tests and demos without a server.
 */
export async function createPgliteShard(options: PGliteOptions = {}): Promise<PgliteShard> {
  const db = await PGlite.create(options);
  return {
    db,
    query: (sql, params) => db.query(sql, params as unknown[]),
    close: () => db.close(),
    [Symbol.asyncDispose]: () => db.close(),
  };
}
