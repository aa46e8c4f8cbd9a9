import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitUntil } from '@noa/testkit';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlDriver } from '../src/drivers/mysql.js';
import { createPool, type Pool, type PoolOptions, type SqlResult } from '../src/index.js';

/**
 * Replica lag and GTID waits need a MariaDB replica: never the shared server. This file builds its
 * own throwaway primary + replica (mariadb-install-db, two mariadbd on free ports, GTID replication)
 * in a temporary directory, and removes it afterwards.
 */
const mariadbd = '/usr/sbin/mariadbd';
const installDb = '/usr/bin/mariadb-install-db';
const canRun = existsSync(mariadbd) && existsSync(installDb);
const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];

type MyPool = Pool<ReturnType<typeof mysqlDriver>>;

describe.skipIf(!canRun)('MariaDB with a GTID replica (own throwaway primary + replica)', () => {
  let dir = '';
  let primaryPort = 0;
  let replicaPort = 0;
  const children: ChildProcess[] = [];
  const pools: MyPool[] = [];
  const url = (port: number) => `mysql://root@127.0.0.1:${port}/app`;
  const replicaId = () => `127.0.0.1:${replicaPort}/app`;

  const sql = async (port: number, text: string) => {
    const client = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
    try {
      return (await client.query(text))[0] as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  const start = async (name: string, port: number, serverId: number) => {
    const child = spawn(
      mariadbd,
      [
        '--no-defaults',
        `--datadir=${join(dir, name)}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--socket=${join(dir, `${name}.sock`)}`,
        `--pid-file=${join(dir, `${name}.pid`)}`,
        `--log-error=${join(dir, `${name}.err`)}`,
        `--server-id=${serverId}`,
        '--log-bin=bin',
        '--skip-grant-tables',
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=16M',
        ...asRoot,
      ],
      { stdio: 'ignore' },
    );
    children.push(child);
    await waitUntil(
      () =>
        sql(port, 'SELECT 1').then(
          () => true,
          () => false,
        ),
      {
        timeoutMs: 20_000,
        message: `mariadbd ${name} on ${port}`,
      },
    );
  };

  beforeAll(async () => {
    dir = mkdtempSync('/tmp/noa-cp-mariadb-');
    execFileSync(
      installDb,
      [
        '--no-defaults',
        `--datadir=${join(dir, 'a')}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        ...asRoot,
      ],
      { stdio: 'ignore' },
    );
    cpSync(join(dir, 'a'), join(dir, 'b'), { recursive: true });
    primaryPort = await freePort();
    replicaPort = await freePort();
    await start('a', primaryPort, 1);
    await start('b', replicaPort, 2);
    await sql(
      replicaPort,
      `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primaryPort}, MASTER_USER='root', MASTER_USE_GTID=slave_pos`,
    );
    await sql(replicaPort, 'START SLAVE');
    await sql(primaryPort, 'CREATE DATABASE app');
    await sql(primaryPort, 'CREATE TABLE app.kv (k varchar(32) PRIMARY KEY, v int)');
    await waitUntil(
      async () =>
        (
          await sql(
            replicaPort,
            "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_NAME = 'kv'",
          )
        )[0]!.n === 1,
      { timeoutMs: 10_000, message: 'the table reached the replica' },
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.close({ timeoutMs: 1_000 })));
    for (const child of children) child.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Delayed replication: the replica applies each event `seconds` late (and reports the lag). */
  const delayReplica = async (seconds: number) => {
    await sql(replicaPort, 'STOP SLAVE');
    await sql(replicaPort, `CHANGE MASTER TO MASTER_DELAY = ${seconds}`);
    await sql(replicaPort, 'START SLAVE');
    // Until its IO thread has reconnected the replica reports no lag at all (NULL), which the pool
    // rightly treats as out of rotation: wait for it, so tests start from a replicating replica.
    await waitUntil(
      async () => {
        const [status] = await sql(replicaPort, 'SHOW SLAVE STATUS');
        return status?.Slave_IO_Running === 'Yes' && status.Seconds_Behind_Master !== null;
      },
      { timeoutMs: 10_000, message: 'the replica replicates again' },
    );
  };

  const open = (options: Partial<PoolOptions<ReturnType<typeof mysqlDriver>>> = {}) => {
    const pool: MyPool = createPool({
      driver: mysqlDriver({ primary: url(primaryPort), replicas: [url(replicaPort)] }),
      max: 4,
      healthCheckIntervalMs: 100,
      ...options,
    });
    pools.push(pool);
    return pool;
  };
  const read = (pool: MyPool, key: string, consistency: 'eventual' | 'causal' = 'eventual') =>
    pool
      .query<SqlResult<{ v: number | null; port: number }>>(
        'SELECT (SELECT v FROM kv WHERE k = ?) AS v, @@port AS port',
        [key],
        { role: 'read', consistency },
      )
      .then((r) => ({ v: r.rows[0]!.v, port: Number(r.rows[0]!.port) }));

  it('writes and transactions go to the primary, reads to the replica', async () => {
    const pool = open();
    await pool.checkHealth();
    expect(pool.stats().nodes[replicaId()]).toMatchObject({ role: 'replica', health: 'up', lagMs: 0 });
    await pool.transaction(async (tx) => {
      const { rows } = await tx.query<SqlResult<{ port: number }>>('SELECT @@port AS port');
      expect(Number(rows[0]!.port)).toBe(primaryPort);
      await tx.query("INSERT INTO kv VALUES ('routed', 1)");
    });
    await waitUntil(async () => (await read(pool, 'routed')).v === 1, { timeoutMs: 5_000 });
    expect((await read(pool, 'routed')).port).toBe(replicaPort);
  });

  it('takes a replica that reports real lag out of rotation and re-admits it when it catches up', async () => {
    await delayReplica(2);
    try {
      const pool = open({ maxReplicationLagMs: 1_000 });
      const events: string[] = [];
      pool.on('replica-lagging', () => events.push('lagging'));
      pool.on('replica-caught-up', () => events.push('caught-up'));
      await pool.checkHealth();
      await pool.query("INSERT INTO kv VALUES ('lag', 1)");
      await waitUntil(() => pool.stats().nodes[replicaId()]!.health === 'lagging', {
        timeoutMs: 5_000,
        message: 'the delayed replica is reported lagging',
      });
      expect(pool.stats().nodes[replicaId()]!.lagMs).toBeGreaterThan(1_000);
      expect(Number.isFinite(pool.stats().nodes[replicaId()]!.lagMs)).toBe(true);
      expect(await read(pool, 'lag')).toEqual({ v: 1, port: primaryPort }); // fallback
      expect(pool.stats().fallbacks).toBeGreaterThanOrEqual(1);
      await waitUntil(() => pool.stats().nodes[replicaId()]!.health === 'up', {
        timeoutMs: 8_000,
        message: 'the replica catches up',
      });
      expect(await read(pool, 'lag')).toEqual({ v: 1, port: replicaPort });
      expect(events).toEqual(['lagging', 'caught-up']);
    } finally {
      await delayReplica(0);
    }
  });

  it('causal reads wait for the replica to reach the GTID of the write (MASTER_GTID_WAIT), or fall back', async () => {
    await delayReplica(1);
    try {
      const pool = open({ causalWaitMs: 4_000, maxReplicationLagMs: 60_000 });
      await pool.checkHealth();
      await pool.query("INSERT INTO kv VALUES ('causal', 42)");
      expect(await read(pool, 'causal')).toEqual({ v: null, port: replicaPort }); // stale replica
      // the replica applies the insert about 1 s later, while the causal read waits on it
      expect(await read(pool, 'causal', 'causal')).toEqual({ v: 42, port: replicaPort });
      expect(pool.stats().fallbacks).toBe(0);

      const quick = open({ causalWaitMs: 200, maxReplicationLagMs: 60_000 });
      await quick.checkHealth();
      await quick.query("UPDATE kv SET v = 43 WHERE k = 'causal'");
      expect(await read(quick, 'causal', 'causal')).toEqual({ v: 43, port: primaryPort }); // could not wait
      expect(quick.stats().fallbacks).toBe(1);
    } finally {
      await delayReplica(0);
    }
  });

  it('a replica that dies is taken out (its connections discarded), reads reroute, and it is re-admitted when back', async () => {
    const pool = open();
    const events: string[] = [];
    pool.on('node-down', ({ node }) => events.push(`down ${node}`));
    pool.on('node-up', ({ node }) => events.push(`up ${node}`));
    await pool.checkHealth();
    await Promise.all(Array.from({ length: 4 }, () => read(pool, 'routed')));
    expect(pool.stats().nodes[replicaId()]!.total).toBeGreaterThan(0);

    const replica = children.pop()!;
    replica.kill('SIGKILL');
    await new Promise((resolve) => replica.once('exit', resolve));
    for (let i = 0; i < 4; i++) expect((await read(pool, 'routed')).port).toBe(primaryPort); // rerouted
    await waitUntil(() => pool.stats().nodes[replicaId()]!.health === 'down', { timeoutMs: 5_000 });
    expect(pool.stats().nodes[replicaId()]!.total).toBe(0);

    await start('b', replicaPort, 2); // replication resumes from the stored GTID position
    await waitUntil(() => pool.stats().nodes[replicaId()]!.health === 'up', {
      timeoutMs: 10_000,
      message: 'the replica is re-admitted',
    });
    expect((await read(pool, 'routed')).port).toBe(replicaPort);
    expect(events).toEqual([`down ${replicaId()}`, `up ${replicaId()}`]);
  });
});
