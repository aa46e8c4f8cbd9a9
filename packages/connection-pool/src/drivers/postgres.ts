import { NoaError } from '@noa/core';
import pg from 'pg';
import type { DriverConnection, NodeState, PoolDriver, SqlResult } from '../driver.js';
import {
  addressId,
  addressOptions,
  buildNodes,
  type NodeAddress,
  pollUntil,
  sqlTransactions,
} from '../internal/nodes.js';
import { WatchedConnection } from '../internal/watched-connection.js';
import { lsnReached } from '../positions.js';

export interface PostgresDriverOptions {
  /** Connection URL or pg.ClientConfig; a list makes every entry a failover candidate (the first starts as primary). */
  primary: NodeAddress<pg.ClientConfig> | NodeAddress<pg.ClientConfig>[];
  replicas?: NodeAddress<pg.ClientConfig>[];
  /** Prepared (named) statements kept per connection; beyond that, queries run unnamed (default 100). */
  statementCacheSize?: number;
  /** The pg module, when you want to pass your own (default: `import pg from 'pg'`). */
  pg?: typeof pg;
}

export type PostgresConnection = DriverConnection<string, unknown[], SqlResult<any>, pg.Client>;

// Server errors that end the session: admin shutdown / terminate_backend, crash, connection exceptions.
const fatalCode = /^(57P0[1-3]|08)/;

class PgConnection extends WatchedConnection<pg.Client> implements PostgresConnection {
  readonly #statements = new Map<string, string>();
  constructor(
    client: pg.Client,
    private readonly cacheSize: number,
    private readonly DatabaseError: typeof pg.DatabaseError,
  ) {
    // pg emits 'error' on an idle client whose server went away, then 'end'.
    super(client, ['error', 'end']);
  }

  query(
    text: string,
    params: unknown[] | undefined,
    { prepare }: { prepare: boolean },
  ): Promise<SqlResult<any>> {
    const name = prepare ? this.#statementName(text) : undefined;
    const pending = name
      ? this.client.query({ name, text, values: params })
      : this.client.query(text, params as unknown[]);
    return pending.catch(this.#onError);
  }

  readonly #onError = (error: unknown): never => {
    if (!(error instanceof this.DatabaseError) || fatalCode.test(String(error.code))) this.markBroken();
    throw error;
  };

  /** pg parses a named statement once per connection and then only binds; names are per connection. */
  #statementName(text: string): string | undefined {
    let name = this.#statements.get(text);
    if (name === undefined && this.#statements.size < this.cacheSize) {
      name = `noa_${this.#statements.size}`;
      this.#statements.set(text, name);
    }
    return name;
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1', undefined, { prepare: false });
  }

  async close(): Promise<void> {
    this.markBroken();
    await this.client.end().catch(() => {});
  }
}

const inspectSql = `SELECT pg_is_in_recovery() AS recovery,
  CASE WHEN NOT pg_is_in_recovery() THEN 0
       WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
       ELSE COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000, 0) END AS lag_ms,
  (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text AS position`;

/**
 * PostgreSQL through `pg`. Lag is what the replica reports: 0 when it has replayed all it received,
 * else the age of the last replayed transaction. Positions are LSNs.
 */
export function postgresDriver(options: PostgresDriverOptions): PoolDriver<PostgresConnection> {
  const pgModule = options.pg ?? pg;
  const cacheSize = options.statementCacheSize ?? 100;
  const list = buildNodes('postgresDriver', options?.primary, options?.replicas, (address) =>
    addressId(address, 5432, 'connectionString'),
  );
  const run = (connection: PostgresConnection, sql: string, params?: unknown[]) =>
    connection.query(sql, params, { prepare: false });
  return {
    name: 'postgres',
    nodes: list.nodes,
    async connect(nodeId, { applicationName }) {
      const client = new pgModule.Client({
        application_name: applicationName,
        ...addressOptions(list.address(nodeId), 'connectionString'),
      });
      const connection = new PgConnection(client, cacheSize, pgModule.DatabaseError);
      try {
        await client.connect();
      } catch (error) {
        await connection.close();
        throw error;
      }
      return connection;
    },
    ...sqlTransactions(run),
    async commit(connection) {
      // COMMIT of a transaction that saw an error answers ROLLBACK rather than failing: say so.
      const result = (await run(connection, 'COMMIT')) as SqlResult & { command?: string };
      if (result.command === 'ROLLBACK') {
        throw new NoaError(
          'NOA_POOL_TRANSACTION_ROLLED_BACK',
          'the transaction was rolled back, not committed: a statement inside it failed (its error was caught in the callback); nothing it wrote was kept',
        );
      }
    },
    async inspect(connection): Promise<NodeState> {
      const row = (await run(connection, inspectSql)).rows[0] as {
        recovery: boolean;
        lag_ms: string | number;
        position: string | null;
      };
      return { writable: !row.recovery, lagMs: Number(row.lag_ms), position: row.position ?? undefined };
    },
    async currentPosition(connection) {
      return (await run(connection, 'SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]?.lsn as
        | string
        | undefined;
    },
    positionReached: lsnReached,
    waitForPosition(connection, target, timeoutMs) {
      // PostgreSQL 15 has no server-side wait for an LSN: poll the replay position.
      return pollUntil(
        async () =>
          (await run(connection, 'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [target])).rows[0]
            ?.ok === true,
        timeoutMs,
      );
    },
  };
}
