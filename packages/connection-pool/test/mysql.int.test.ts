import { requireService, uniqueName } from '@noa/testkit';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { mysqlDriver } from '../src/drivers/mysql.js';
import { createPool, type SqlResult } from '../src/index.js';
import { poolContract } from './contract.js';
import { recordingDriver } from './recording.js';

const mariadb = await requireService('mysql');
const table = uniqueName('cp_my');
const opened = new Map<string, Set<number | string>>();

async function admin<T>(fn: (client: mysql.Connection) => Promise<T>): Promise<T> {
  const client = await mysql.createConnection({ uri: mariadb.url });
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Ids of our connections (by application name) that the server still lists. */
const liveThreads = (name: string) =>
  admin(async (c) => {
    const [rows] = await c.query('SELECT ID FROM information_schema.PROCESSLIST');
    const live = new Set((rows as { ID: number }[]).map((row) => row.ID));
    return [...(opened.get(name) ?? [])].filter((id) => live.has(id as number));
  });

const upsert = `INSERT INTO ${table} (k, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = VALUES(v)`;

describe.skipIf(!mariadb.available)('MariaDB / MySQL', () => {
  poolContract('mysql (MariaDB)', {
    driver: () => recordingDriver(mysqlDriver({ primary: mariadb.url }), (c) => c.client.threadId, opened),
    setup: () =>
      admin((c) => c.query(`CREATE TABLE ${table} (k varchar(64) PRIMARY KEY, v int) ENGINE=InnoDB`)).then(
        () => {},
      ),
    teardown: () => admin((c) => c.query(`DROP TABLE IF EXISTS ${table}`)).then(() => {}),
    write: (pool, key, value, prepare) => pool.query(upsert, [key, value], { prepare }),
    read: async (pool, key, role) =>
      (await pool.query<SqlResult<{ v: number }>>(`SELECT v FROM ${table} WHERE k = ?`, [key], { role }))
        .rows[0]?.v ?? null,
    serverConnections: async (name) => (await liveThreads(name)).length,
    killOne: async (name) => {
      const [id] = await liveThreads(name);
      if (id === undefined) return 0;
      await admin((c) => c.query(`KILL ${Number(id)}`)).catch(() => {});
      return 1;
    },
  });

  it('inspects the server: a writable primary without lag, with its GTID position', async () => {
    const driver = mysqlDriver({ primary: mariadb.url });
    const connection = await driver.connect(driver.nodes[0]!.id, { applicationName: 'noa-test' });
    try {
      const state = await driver.inspect(connection);
      expect(state).toMatchObject({ writable: true, lagMs: 0 });
      expect(typeof state.position).toBe('string');
      const position = await driver.currentPosition!(connection);
      // MASTER_GTID_WAIT runs on the real server: the current position is reached at once, a future one times out
      expect(await driver.waitForPosition!(connection, position ?? '', 1_000)).toBe(true);
      expect(await driver.waitForPosition!(connection, '0-1-999999999', 100)).toBe(false);
    } finally {
      await connection.close();
    }
  });

  it('causal reads without a replica go to the primary and see the write', async () => {
    const pool = createPool({ driver: mysqlDriver({ primary: mariadb.url }), consistency: 'causal', max: 2 });
    try {
      await pool.query(`CREATE TABLE IF NOT EXISTS ${table}_c (k int PRIMARY KEY)`);
      await pool.query(`INSERT INTO ${table}_c VALUES (1)`);
      const { rows } = await pool.query<SqlResult<{ n: number }>>(
        `SELECT count(*) AS n FROM ${table}_c`,
        [],
        {
          role: 'read',
        },
      );
      expect(Number(rows[0]!.n)).toBe(1);
      expect(pool.stats().fallbacks).toBe(1);
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${table}_c`);
      await pool.close();
    }
  });

  it('execute() caches prepared statements per connection', async () => {
    const pool = createPool({ driver: mysqlDriver({ primary: mariadb.url }), max: 1, prepare: true });
    try {
      for (let i = 0; i < 3; i++) {
        const { rows } = await pool.query<SqlResult<{ n: number }>>('SELECT ? + 1 AS n', [i]);
        expect(Number(rows[0]!.n)).toBe(i + 1);
      }
      const connection = await pool.acquire();
      const [status] = await connection.client.promise().query("SHOW SESSION STATUS LIKE 'Com_stmt_prepare'");
      connection.release();
      expect(Number((status as { Value: string }[])[0]!.Value)).toBe(1);
    } finally {
      await pool.close();
    }
  });
});
