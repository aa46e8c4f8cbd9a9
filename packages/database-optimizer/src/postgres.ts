export {
  normalizePostgresPlan,
  type PgPoolLike,
  type PgQueryable,
  type PostgresAdapterOptions,
  postgresAdapter,
} from './adapters/postgres.js';
