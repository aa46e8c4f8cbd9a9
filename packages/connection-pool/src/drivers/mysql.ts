import mysql from 'mysql2';
import type { DriverConnection, NodeState, PoolDriver, SqlResult } from '../driver.js';
import {
  addressId,
  addressOptions,
  buildNodes,
  type NodeAddress,
  sqlTransactions,
} from '../internal/nodes.js';
import { WatchedConnection } from '../internal/watched-connection.js';
import { mariaGtidReached } from '../positions.js';

export interface MysqlDriverOptions {
  /** Connection URL or mysql2 ConnectionOptions; a list makes every entry a failover candidate (the first starts as primary). */
  primary: NodeAddress<mysql.ConnectionOptions> | NodeAddress<mysql.ConnectionOptions>[];
  replicas?: NodeAddress<mysql.ConnectionOptions>[];
  /** The mysql2 module, when you want to pass your own. */
  mysql?: typeof mysql;
}

/** `client` is mysql2's core (callback) Connection; `client.promise()` gives its promise API. */
export type MysqlConnection = DriverConnection<
  string,
  unknown[] | Record<string, unknown>,
  SqlResult<any>,
  mysql.Connection
>;

type Flavor = 'mariadb' | 'mysql';

function toResult(rows: unknown): SqlResult<any> {
  if (Array.isArray(rows)) return { rows, rowCount: rows.length };
  const header = rows as mysql.ResultSetHeader;
  return { rows: [], rowCount: header.affectedRows, insertId: header.insertId };
}

/**
 * Wraps mysql2's core connection in one promise per query. (Its promise wrapper captures a stack
 * trace per query, which costs more than the rest of the pool's work together; the pool's own leak
 * detection records where connections are acquired.)
 */
class Mysql2Connection extends WatchedConnection<mysql.Connection> implements MysqlConnection {
  flavor: Flavor | undefined;
  constructor(client: mysql.Connection) {
    // mysql2 emits 'error' for a fatal error on an idle connection.
    super(client, ['error', 'end']);
  }

  query(
    sql: string,
    params: unknown[] | Record<string, unknown> | undefined,
    { prepare }: { prepare: boolean },
  ): Promise<SqlResult<any>> {
    return new Promise((resolve, reject) => {
      const done = (error: (Error & { fatal?: boolean }) | null, rows: unknown) => {
        if (error) {
          if (error.fatal) this.markBroken();
          reject(error);
        } else {
          resolve(toResult(rows));
        }
      };
      // execute() prepares the statement once per connection (mysql2 caches it) and then only binds.
      if (prepare) this.client.execute(sql, params as never, done);
      else if (params === undefined) this.client.query(sql, done);
      else this.client.query(sql, params as never, done);
    });
  }

  ping(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.ping((error) => (error ? reject(error) : resolve()));
    });
  }

  close(): Promise<void> {
    this.markBroken();
    return new Promise((resolve) => {
      this.client.end((error) => {
        if (error) this.client.destroy();
        resolve();
      });
    });
  }

  async detectFlavor(): Promise<Flavor> {
    if (!this.flavor) {
      const { rows } = await this.query('SELECT VERSION() AS v', undefined, { prepare: false });
      this.flavor = /mariadb/i.test(String(rows[0]?.v)) ? 'mariadb' : 'mysql';
    }
    return this.flavor;
  }
}

const run = async (connection: MysqlConnection, sql: string, params?: unknown[]) =>
  (await connection.query(sql, params, { prepare: false })).rows;
const own = (connection: MysqlConnection) => connection as Mysql2Connection;

/**
 * MySQL and MariaDB through mysql2. Lag is the replica's Seconds_Behind_Master (second
 * resolution); positions are GTIDs (MariaDB `domain-server-seq`, compared on the client; MySQL
 * GTID sets are waited for on the server with WAIT_FOR_EXECUTED_GTID_SET).
 */
export function mysqlDriver(options: MysqlDriverOptions): PoolDriver<MysqlConnection> {
  const mysqlModule = options.mysql ?? mysql;
  const list = buildNodes('mysqlDriver', options?.primary, options?.replicas, (address) =>
    addressId(address, 3306, 'uri'),
  );
  return {
    name: 'mysql',
    nodes: list.nodes,
    async connect(nodeId, { applicationName }) {
      const config = addressOptions(list.address(nodeId), 'uri');
      const client = mysqlModule.createConnection({
        ...config,
        connectAttributes: { program_name: applicationName, ...config.connectAttributes },
      });
      const connection = new Mysql2Connection(client);
      await new Promise<void>((resolve, reject) => {
        client.connect((error) => (error ? reject(error) : resolve()));
      }).catch((error: unknown) => {
        client.destroy();
        throw error;
      });
      return connection;
    },
    ...sqlTransactions(run, 'START TRANSACTION'),
    async inspect(connection): Promise<NodeState> {
      const flavor = await own(connection).detectFlavor();
      let status: Record<string, unknown> | undefined;
      try {
        status = (
          await run(connection, flavor === 'mariadb' ? 'SHOW SLAVE STATUS' : 'SHOW REPLICA STATUS')
        )[0];
      } catch {
        status = (await run(connection, 'SHOW SLAVE STATUS'))[0]; // MySQL before 8.0.22
      }
      const vars = (
        await run(
          connection,
          flavor === 'mariadb'
            ? 'SELECT @@read_only AS ro, @@gtid_binlog_pos AS primary_pos, @@gtid_slave_pos AS replica_pos'
            : 'SELECT @@read_only AS ro, @@global.gtid_executed AS primary_pos, @@global.gtid_executed AS replica_pos',
        )
      )[0] as { ro: number; primary_pos: string | null; replica_pos: string | null };
      if (!status) return { writable: Number(vars.ro) === 0, lagMs: 0, position: vars.primary_pos ?? '' };
      const seconds = status.Seconds_Behind_Master ?? status.Seconds_Behind_Source;
      return {
        writable: false,
        lagMs: seconds === null || seconds === undefined ? Number.POSITIVE_INFINITY : Number(seconds) * 1000,
        position: vars.replica_pos ?? '',
      };
    },
    async currentPosition(connection) {
      const flavor = await own(connection).detectFlavor();
      const rows = await run(
        connection,
        flavor === 'mariadb' ? 'SELECT @@gtid_binlog_pos AS pos' : 'SELECT @@global.gtid_executed AS pos',
      );
      return String(rows[0]?.pos ?? '');
    },
    positionReached: mariaGtidReached,
    async waitForPosition(connection, target, timeoutMs) {
      const flavor = await own(connection).detectFlavor();
      const sql =
        flavor === 'mariadb'
          ? 'SELECT MASTER_GTID_WAIT(?, ?) AS r'
          : 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS r';
      const rows = await run(connection, sql, [target, timeoutMs / 1000]);
      return Number(rows[0]?.r) === 0;
    },
  };
}
