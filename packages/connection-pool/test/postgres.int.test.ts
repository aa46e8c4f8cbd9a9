import { isReachable, requireService, sleep, uniqueName, waitUntil } from '@noa/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDriver } from '../src/drivers/postgres.js';
import { createPool, type Pool, type SqlResult } from '../src/index.js';
import { poolContract } from './contract.js';

const postgres = await requireService('postgres');
const primaryUrl = postgres.url;
const replicaUrl = process.env.DATABASE_REPLICA_URL ?? 'postgres://postgres@127.0.0.1:5433/test';
const replicaUp = postgres.available && (await isReachable(replicaUrl));
if (postgres.available && !replicaUp && (process.env.CI === 'true' || process.env.CI === '1')) {
  throw new Error(
    `the PostgreSQL replica is unreachable at ${replicaUrl}; start it with scripts/services/30-pg-replica.sh`,
  );
}
const table = uniqueName('cp_pg');

async function admin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const countOn = (url: string, name: string) =>
  admin(url, async (c) =>
    Number(
      (await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [name]))
        .rows[0].n,
    ),
  );

type PgPool = Pool<ReturnType<typeof postgresDriver>>;
const upsert = `INSERT INTO ${table} (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v`;

describe.skipIf(!postgres.available)('PostgreSQL', () => {
  poolContract('postgres', {
    driver: () => postgresDriver({ primary: primaryUrl }),
    setup: () =>
      admin(primaryUrl, (c) => c.query(`CREATE TABLE ${table} (k text PRIMARY KEY, v int)`)).then(() => {}),
    teardown: () => admin(primaryUrl, (c) => c.query(`DROP TABLE IF EXISTS ${table}`)).then(() => {}),
    write: (pool, key, value, prepare) => pool.query(upsert, [key, value], { prepare }),
    read: async (pool, key, role) =>
      (await pool.query<SqlResult<{ v: number }>>(`SELECT v FROM ${table} WHERE k = $1`, [key], { role }))
        .rows[0]?.v ?? null,
    serverConnections: (name) => countOn(primaryUrl, name),
    killOne: (name) =>
      admin(primaryUrl, async (c) => {
        const { rows } = await c.query(
          'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 ORDER BY random() LIMIT 1',
          [name],
        );
        return rows.filter((row) => row.ok).length;
      }),
  });

  it('a transaction whose failed statement was caught rejects instead of reporting a commit', async () => {
    const txTable = uniqueName('cp_tx');
    const pool: PgPool = createPool({ driver: postgresDriver({ primary: primaryUrl }), max: 1 });
    try {
      await pool.query(`CREATE TABLE ${txTable} (k text PRIMARY KEY)`);
      const outcome = pool.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${txTable} VALUES ('swallowed')`);
        await tx.query('SELECT no_such_column').catch(() => {}); // PostgreSQL aborts the transaction
        return 'done';
      });
      await expect(outcome).rejects.toMatchObject({ code: 'NOA_POOL_TRANSACTION_ROLLED_BACK' });
      await pool.transaction((tx) => tx.query(`INSERT INTO ${txTable} VALUES ('kept')`)); // still usable
      const { rows } = await pool.query<SqlResult>(`SELECT k FROM ${txTable}`);
      expect(rows).toEqual([{ k: 'kept' }]);
      expect(pool.stats()).toMatchObject({ total: 1, active: 0 });
    } finally {
      await pool.query(`DROP TABLE IF EXISTS ${txTable}`);
      await pool.close();
    }
  });

  describe('prepared statements', () => {
    it('caches named statements per connection', async () => {
      const pool: PgPool = createPool({
        driver: postgresDriver({ primary: primaryUrl }),
        max: 1,
        prepare: true,
      });
      try {
        for (let i = 0; i < 3; i++) await pool.query('SELECT $1::int + 1 AS n', [i]);
        const conn = await pool.acquire();
        const { rows } = await conn.query<SqlResult<{ name: string; statement: string }>>(
          'SELECT name, statement FROM pg_prepared_statements',
          undefined,
          { prepare: false },
        );
        conn.release();
        expect(rows).toEqual([{ name: 'noa_0', statement: 'SELECT $1::int + 1 AS n' }]);
      } finally {
        await pool.close();
      }
    });
  });
});

if (!replicaUp)
  it.skip(`PostgreSQL replica tests: no replica at ${replicaUrl} (scripts/services/30-pg-replica.sh)`, () => {});
describe.skipIf(!replicaUp)('PostgreSQL with a streaming replica (127.0.0.1:5433)', () => {
  const rwTable = uniqueName('cp_rw');
  const pools: PgPool[] = [];
  const open = (options: Partial<Parameters<typeof createPool>[0]> = {}) => {
    const applicationName = uniqueName('cp_rw').slice(0, 40);
    const pool: PgPool = createPool({
      driver: postgresDriver({ primary: primaryUrl, replicas: [replicaUrl] }),
      max: 4,
      healthCheckIntervalMs: 100,
      applicationName,
      ...options,
    } as never);
    pools.push(pool);
    return { pool, applicationName };
  };
  const resume = () => admin(replicaUrl, (c) => c.query('SELECT pg_wal_replay_resume()')).catch(() => {});
  const port = async (pool: PgPool, options: Parameters<PgPool['query']>[2]) =>
    (await pool.query<SqlResult<{ port: number }>>('SELECT inet_server_port() AS port', [], options)).rows[0]!
      .port;

  beforeAll(async () => {
    await admin(primaryUrl, (c) => c.query(`CREATE TABLE ${rwTable} (k text PRIMARY KEY, v int)`));
    // the table must have reached the replica before the tests read it there
    await waitUntil(
      () =>
        admin(
          replicaUrl,
          async (c) => (await c.query('SELECT to_regclass($1) AS t', [rwTable])).rows[0].t !== null,
        ),
      { timeoutMs: 15_000 },
    );
  });
  afterAll(async () => {
    await resume();
    await Promise.all(pools.map((pool) => pool.close({ timeoutMs: 2_000 })));
    await admin(primaryUrl, (c) => c.query(`DROP TABLE IF EXISTS ${rwTable}`));
  });

  it('sends writes and transactions to the primary and reads to the replica', async () => {
    const { pool } = open();
    await pool.checkHealth();
    expect(pool.stats().nodes).toMatchObject({
      '127.0.0.1:5432/test': { role: 'primary', health: 'up' },
      '127.0.0.1:5433/test': { role: 'replica', health: 'up' },
    });
    expect(await port(pool, { role: 'write' })).toBe(5432);
    expect(await port(pool, { role: 'read' })).toBe(5433);
    await pool.transaction(async (tx) => {
      expect(
        (await tx.query<SqlResult<{ port: number }>>('SELECT inet_server_port() AS port')).rows[0]!.port,
      ).toBe(5432);
    });
  });

  it('measures real lag, takes the replica out of rotation, falls back to the primary and re-admits it', async () => {
    const { pool } = open({ maxReplicationLagMs: 500 });
    await pool.checkHealth();
    const events: string[] = [];
    pool.on('replica-lagging', () => events.push('lagging'));
    pool.on('replica-caught-up', () => events.push('caught-up'));
    try {
      await admin(replicaUrl, (c) => c.query('SELECT pg_wal_replay_pause()'));
      await pool.query(`INSERT INTO ${rwTable} VALUES ('lag', 1)`);
      await waitUntil(
        async () => {
          await pool.checkHealth();
          return pool.stats().nodes['127.0.0.1:5433/test']!.health === 'lagging';
        },
        { timeoutMs: 15_000, intervalMs: 100, message: 'the paused replica is reported lagging' },
      );
      expect(pool.stats().nodes['127.0.0.1:5433/test']!.lagMs).toBeGreaterThan(500);
      expect(await port(pool, { role: 'read' })).toBe(5432);
      expect(pool.stats().fallbacks).toBeGreaterThanOrEqual(1);
    } finally {
      await resume();
    }
    await waitUntil(
      async () => {
        await pool.checkHealth();
        return pool.stats().nodes['127.0.0.1:5433/test']!.health === 'up';
      },
      { timeoutMs: 15_000, intervalMs: 100, message: 'the replica catches up' },
    );
    // (a shared, loaded machine can make the replica lag for real again: retry the read a little)
    await waitUntil(async () => (await port(pool, { role: 'read' })) === 5433, { timeoutMs: 10_000 });
    expect(events.slice(0, 2)).toEqual(['lagging', 'caught-up']);
  });

  it('causal reads see the write: wait for the replica LSN, or fall back to the primary', async () => {
    const { pool } = open({ causalWaitMs: 2_000, maxReplicationLagMs: 60_000 });
    await pool.checkHealth();
    const read = (key: string, consistency: 'eventual' | 'causal') =>
      pool
        .query<SqlResult<{ v: number | null; port: number }>>(
          `SELECT (SELECT v FROM ${rwTable} WHERE k = $1) AS v, inet_server_port() AS port`,
          [key],
          { role: 'read', consistency },
        )
        .then((r) => r.rows[0]!);
    try {
      await admin(replicaUrl, (c) => c.query('SELECT pg_wal_replay_pause()'));
      await pool.query(`INSERT INTO ${rwTable} VALUES ('causal', 42)`);
      expect(await read('causal', 'eventual')).toEqual({ v: null, port: 5433 }); // stale replica
      expect(await read('causal', 'causal')).toEqual({ v: 42, port: 5432 }); // could not wait: primary
      await pool.query(`INSERT INTO ${rwTable} VALUES ('causal-2', 43)`);
      const waiting = read('causal-2', 'causal');
      await sleep(50);
      await resume();
      expect(await waiting).toEqual({ v: 43, port: 5433 }); // the replica caught up while the read waited
    } finally {
      await resume();
    }
  });

  it('a causal read never reuses a primary position asked for before its own write completed', async () => {
    const base = postgresDriver({ primary: primaryUrl, replicas: [replicaUrl] });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let positionRead!: () => void;
    const firstPositionRead = new Promise<void>((resolve) => {
      positionRead = resolve;
    });
    let calls = 0;
    // The first position lookup reads the primary's LSN, then is held back until the test lets it go.
    const driver: typeof base = {
      ...base,
      async currentPosition(connection) {
        const position = await base.currentPosition!(connection);
        if (++calls === 1) {
          positionRead();
          await gate;
        }
        return position;
      },
    };
    const pool: PgPool = createPool({
      driver,
      max: 4,
      healthCheckIntervalMs: 100,
      causalWaitMs: 300,
      maxReplicationLagMs: 60_000,
    });
    pools.push(pool);
    const read = () =>
      pool
        .query<SqlResult<{ v: number | null }>>(`SELECT v FROM ${rwTable} WHERE k = 'race'`, [], {
          role: 'read',
          consistency: 'causal',
        })
        .then((r) => r.rows[0]?.v ?? null);
    try {
      await pool.query(`INSERT INTO ${rwTable} VALUES ('race', 1)`);
      const first = read(); // asks the primary for its position, which covers the insert only
      await firstPositionRead;
      // let the replica reach that position, then freeze it there
      const [{ lsn }] = await admin(
        primaryUrl,
        async (c) => (await c.query('SELECT pg_current_wal_lsn()::text AS lsn')).rows,
      );
      await waitUntil(
        () =>
          admin(
            replicaUrl,
            async (c) =>
              (await c.query('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok', [lsn])).rows[0].ok,
          ),
        { timeoutMs: 10_000, message: 'the insert reached the replica' },
      );
      await admin(replicaUrl, (c) => c.query('SELECT pg_wal_replay_pause()'));
      await waitUntil(
        () =>
          admin(
            replicaUrl,
            async (c) =>
              (await c.query('SELECT pg_get_wal_replay_pause_state() AS s')).rows[0].s === 'paused',
          ),
        { timeoutMs: 10_000, message: 'replay paused' },
      );
      await pool.query(`UPDATE ${rwTable} SET v = 2 WHERE k = 'race'`); // not replayed on the replica
      const second = read(); // must wait for a position that covers the update, not share the first lookup
      release();
      expect(await first).toBe(1);
      expect(await second).toBe(2);
      expect(calls).toBe(2);
    } finally {
      release();
      await resume();
    }
  });

  it('retries a read whose replica connection was terminated, and the counts match the servers', async () => {
    const { pool, applicationName } = open();
    await Promise.all(Array.from({ length: 8 }, () => port(pool, { role: 'read' })));
    const killed = await admin(
      replicaUrl,
      async (c) =>
        (
          await c.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
            [applicationName],
          )
        ).rowCount,
    );
    expect(killed).toBeGreaterThan(0);
    for (let i = 0; i < 8; i++) expect([5432, 5433]).toContain(await port(pool, { role: 'read' }));
    await waitUntil(
      async () =>
        (await countOn(replicaUrl, applicationName)) === pool.stats().nodes['127.0.0.1:5433/test']!.total &&
        (await countOn(primaryUrl, applicationName)) === pool.stats().nodes['127.0.0.1:5432/test']!.total,
      { timeoutMs: 10_000, message: 'pool counts equal pg_stat_activity on both servers' },
    );
  });
});
