import type { PGlite } from '@electric-sql/pglite';
import type { IndexAdvisor, QueryAdapter } from './adapter.js';
import { postgresAdapter } from './adapters/postgres.js';

export interface PgliteAdapterOptions {
  /** Your PGlite instance; when omitted an in-memory one is created (and closed by `close()`). */
  db?: PGlite;
}

export type PgliteAdapter = QueryAdapter & {
  advisor: IndexAdvisor;
  /** The embedded database, to create tables in and to `wrap()`. */
  db: PGlite;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
};

/**
 * The embedded default: PostgreSQL compiled to WASM (PGlite), in process. Index advice is proven
 * with real indexes inside a transaction that is rolled back: HypoPG is not available in PGlite,
 * and nothing else waits on an embedded database's locks.
 */
export async function pgliteAdapter(options: PgliteAdapterOptions = {}): Promise<PgliteAdapter> {
  const owned = !options.db;
  const db = options.db ?? new (await import('@electric-sql/pglite')).PGlite();
  await db.waitReady;
  // PGlite ships with enable_seqscan off; plans of an instance we own should look like a server's.
  if (owned) await db.query('SET enable_seqscan = on');
  const adapter = postgresAdapter({ pool: db, proof: 'rollback' });
  const close = async () => {
    if (owned && !db.closed) await db.close();
  };
  return Object.assign(adapter, { db, close, [Symbol.asyncDispose]: close });
}
