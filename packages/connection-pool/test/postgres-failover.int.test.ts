import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { isNoaError } from '@noa/core';
import { freePort, waitUntil } from '@noa/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDriver } from '../src/drivers/postgres.js';
import { createPool, type SqlResult } from '../src/index.js';

/**
 * Promotion and failover need a primary that can die and a replica that can be promoted: never the
 * shared clusters. This file builds its own throwaway pair (initdb + pg_basebackup) on free ports
 * in a temporary directory, and removes it afterwards.
 */
const bin = '/usr/lib/postgresql/15/bin';
const isRoot = process.getuid?.() === 0;
const canRun = existsSync(join(bin, 'initdb')) && (isRoot || userInfo().username === 'postgres');

function asPostgres(command: string, args: string[]): string {
  const [file, argv] = isRoot
    ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]]
    : [join(bin, command), args];
  return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe.skipIf(!canRun)('PostgreSQL failover (own throwaway primary + replica)', () => {
  let dir = '';
  let portA = 0;
  let portB = 0;
  const url = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres`;
  const start = (name: string, port: number) =>
    asPostgres('pg_ctl', [
      '-D',
      join(dir, name),
      '-l',
      join(dir, `${name}.log`),
      '-w',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c wal_level=replica -c max_wal_senders=4`,
      'start',
    ]);
  const stop = (name: string) => {
    try {
      asPostgres('pg_ctl', ['-D', join(dir, name), '-m', 'immediate', '-w', 'stop']);
    } catch {
      // already stopped
    }
  };
  const sql = async (port: number, text: string) => {
    const client = new pg.Client({ connectionString: url(port) });
    await client.connect();
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync('/tmp/noa-cp-failover-');
    if (isRoot)
      chownSync(
        dir,
        Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
        Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
      );
    portA = await freePort();
    portB = await freePort();
    asPostgres('initdb', ['-D', join(dir, 'a'), '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
    start('a', portA);
    asPostgres('pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(portA),
      '-U',
      'postgres',
      '-D',
      join(dir, 'b'),
      '-R',
      '-X',
      'stream',
      '-c',
      'fast',
    ]);
    start('b', portB);
    await waitUntil(async () => (await sql(portB, 'SELECT pg_is_in_recovery() AS r'))[0].r === true, {
      timeoutMs: 20_000,
    });
  }, 90_000);

  afterAll(() => {
    if (!dir) return;
    stop('a');
    stop('b');
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails writes fast when the primary crashes, follows the promoted replica, loses no acknowledged write', async () => {
    const pool = createPool({
      driver: postgresDriver({ primary: [url(portA), url(portB)] }),
      max: 4,
      healthCheckIntervalMs: 100,
      healthCheckTimeoutMs: 1_000,
    });
    const failovers: string[] = [];
    pool.on('failover', ({ from, to }) => failovers.push(`${from} -> ${to}`));
    try {
      await pool.query('CREATE TABLE orders (id int PRIMARY KEY)');
      const acknowledged: number[] = [];
      await Promise.all(
        Array.from({ length: 4 }, async (_, lane) => {
          for (let i = lane; i < 200; i += 4) {
            await pool.query('INSERT INTO orders VALUES ($1)', [i]);
            acknowledged.push(i);
          }
        }),
      );
      // asynchronous replication: wait until the replica replayed everything acknowledged, then crash the primary
      const [{ lsn }] = await sql(portA, 'SELECT pg_current_wal_lsn()::text AS lsn');
      await waitUntil(
        async () => (await sql(portB, `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn AS ok`))[0].ok,
        {
          timeoutMs: 10_000,
        },
      );
      stop('a');
      await waitUntil(() => pool.stats().nodes[`127.0.0.1:${portA}/postgres`]!.health === 'down', {
        timeoutMs: 10_000,
      });
      const error = await pool.query('INSERT INTO orders VALUES (1000)').catch((e: unknown) => e);
      expect(isNoaError(error, 'NOA_POOL_PRIMARY_UNAVAILABLE')).toBe(true);
      // reads keep working on the replica meanwhile
      const before = await pool.query<SqlResult<{ n: string }>>('SELECT count(*) AS n FROM orders', [], {
        role: 'read',
      });
      expect(Number(before.rows[0]!.n)).toBe(200);

      asPostgres('pg_ctl', ['-D', join(dir, 'b'), '-w', 'promote']);
      await waitUntil(() => pool.primary === `127.0.0.1:${portB}/postgres`, {
        timeoutMs: 10_000,
        message: 'failover',
      });
      await pool.query('INSERT INTO orders VALUES (1000)');
      const { rows } = await pool.query<SqlResult<{ id: number }>>('SELECT id FROM orders ORDER BY id');
      const stored = new Set(rows.map((row) => row.id));
      for (const id of acknowledged) expect(stored.has(id)).toBe(true);
      expect(stored.size).toBe(201);
      expect(failovers).toEqual([`127.0.0.1:${portA}/postgres -> 127.0.0.1:${portB}/postgres`]);
    } finally {
      await pool.close({ timeoutMs: 2_000 });
    }
  });
});
