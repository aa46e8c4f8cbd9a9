import { isReachable, requireService, serviceUrl, uniqueName, waitUntil } from '@noa/testkit';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createShardManager, createShardRouter, hashStrategy, jumpHashStrategy } from '../src/index.js';
import { crossShardContract, shardMapContract } from './contract.js';

const postgres = await requireService('postgres');
// The second, independent server (scripts/services/35-pg-shard-server.sh).
const SHARD_SERVER = process.env.NOA_PG_SHARD_URL ?? 'postgres://postgres@127.0.0.1:5434/test';
const shardServerUp = await isReachable(SHARD_SERVER);
if (!shardServerUp && (process.env.CI === 'true' || process.env.CI === '1')) {
  throw new Error(
    `the shard PostgreSQL server is unreachable at ${SHARD_SERVER}; start it with scripts/services/35-pg-shard-server.sh`,
  );
}
const available = postgres.available && shardServerUp;

const withDatabase = (url: string, database: string) => {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
};

const created: { server: string; database: string }[] = [];
const pools: pg.Pool[] = [];

/** Creates a database on a server and returns a pool for it (dropped after the file). */
async function database(server: string, label: string): Promise<pg.Pool> {
  const name = uniqueName(label);
  const admin = new pg.Client({ connectionString: withDatabase(server, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  created.push({ server, database: name });
  const pool = new pg.Pool({ connectionString: withDatabase(server, name), max: 4 });
  // Idle clients killed by the fault tests must not crash the run.
  pool.on('error', () => {});
  pools.push(pool);
  return pool;
}

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => {})));
  for (const { server, database: name } of created) {
    const admin = new pg.Client({ connectionString: withDatabase(server, 'postgres') });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => admin.end());
  }
});

const main = serviceUrl('postgres');

crossShardContract(
  'PostgreSQL, three databases on 5432 and one on the 5434 server',
  async () => {
    const shards = {
      a: await database(main, 'shard_a'),
      b: await database(main, 'shard_b'),
      c: await database(main, 'shard_c'),
      remote: await database(SHARD_SERVER, 'shard_remote'),
    };
    const broken = new pg.Pool({
      connectionString: withDatabase(main, uniqueName('does_not_exist')),
      max: 1,
    });
    pools.push(broken);
    return {
      dialect: 'postgres',
      shards,
      reference: await database(main, 'reference'),
      broken,
      close: async () => {},
    };
  },
  { skip: !available },
);

shardMapContract(
  'PostgreSQL (metadata on 5432, shards on both servers)',
  async () => ({
    metadata: await database(main, 'metadata'),
    shards: {
      a: await database(main, 'map_a'),
      b: await database(SHARD_SERVER, 'map_b'),
      c: await database(main, 'map_c'),
    },
    close: async () => {},
  }),
  { skip: !available },
);

describe.skipIf(!available)('faults (PostgreSQL)', () => {
  it('a shard whose connections are killed mid-fan-out fails the call naming it; the next call sees every row', async () => {
    const shards = {
      a: await database(main, 'fault_a'),
      b: await database(main, 'fault_b'),
      remote: await database(SHARD_SERVER, 'fault_r'),
    };
    const router = createShardRouter({ strategy: jumpHashStrategy({ shards: Object.keys(shards) }), shards });
    for (const shard of Object.keys(shards))
      await router.queryShard(shard, 'CREATE TABLE items (id INT PRIMARY KEY)');
    for (let id = 0; id < 300; id++) await router.query(id, 'INSERT INTO items (id) VALUES ($1)', [id]);
    // Kill our own backends of shard "b" while a slow fan-out runs on it.
    const slow = router.queryAll('SELECT COUNT(*) AS n, pg_sleep(2) IS NULL AS slept FROM items', [], {
      aggregate: { n: 'count' },
    });
    const bName = created.find((c) => c.database.includes('fault_b'))!.database;
    const admin = new pg.Client({ connectionString: withDatabase(main, 'postgres') });
    await admin.connect();
    const active =
      "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()";
    await waitUntil(async () => (await admin.query(active, [bName])).rowCount! > 0, { timeoutMs: 10_000 });
    const killed = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [bName],
    );
    await admin.end();
    expect(killed.rowCount).toBeGreaterThan(0);
    await expect(slow).rejects.toMatchObject({ code: 'NOA_SHARDING_SHARD_FAILED', shard: 'b' });
    // pg's pool drops the dead client; nothing was lost.
    const after = await router.queryAll('SELECT COUNT(*) AS n FROM items', [], { aggregate: { n: 'count' } });
    expect(Number(after.rows[0]!.n)).toBe(300);
    await router.close();
  });

  it('when the metadata database becomes unreachable, routers keep the last map and report the error', async () => {
    await (await database(main, 'fault_meta')).end();
    // A pool of its own, so ending it does not disturb the file's other pools.
    const metaPool = new pg.Pool({ connectionString: withDatabase(main, created.at(-1)!.database), max: 2 });
    const manager = createShardManager({ metadata: metaPool, pollIntervalMs: 20 });
    await manager.migrate();
    const shard = await database(main, 'fault_s');
    await manager.publish(hashStrategy({ shards: ['s'] }));
    const router = createShardRouter({ manager, shards: { s: shard } });
    const errors: unknown[] = [];
    manager.on('error', (e) => errors.push(e));
    await metaPool.end(); // the metadata database is gone for this process
    await waitUntil(() => errors.length > 0, { timeoutMs: 10_000 });
    expect(router.version).toBe(1);
    await expect(router.query('k', 'SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    await router.close();
    await manager.close();
  });
});

// The streaming replica of the main cluster (scripts/services/30-pg-replica.sh): a database created on
// 5432 appears on 5433, so a @noa/connection-pool pool can send a shard's reads there.
const REPLICA = process.env.DATABASE_REPLICA_URL ?? 'postgres://postgres@127.0.0.1:5433/test';
const replicaUp = available && (await isReachable(REPLICA));

describe.skipIf(!replicaUp)('read replicas per shard through @noa/connection-pool', () => {
  it('reads with role "read" go to the shard replica, writes to its primary; results merge with plain pg shards', async () => {
    const { createPool } = await import('@noa/connection-pool');
    const { postgresDriver } = await import('@noa/connection-pool/postgres');
    await (await database(main, 'pooled')).end();
    const name = created.at(-1)!.database;
    const pooled = createPool({
      driver: postgresDriver({ primary: withDatabase(main, name), replicas: [withDatabase(REPLICA, name)] }),
      max: 4,
    });
    const plain = await database(SHARD_SERVER, 'plain');
    const router = createShardRouter({
      strategy: jumpHashStrategy({ shards: ['pooled', 'plain'] }),
      shards: { pooled, plain },
    });
    try {
      for (const shard of ['pooled', 'plain'])
        await router.queryShard(shard, 'CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)');
      for (let id = 0; id < 40; id++)
        await router.query(id, 'INSERT INTO notes VALUES ($1, $2)', [id, `note ${id}`]);
      const ids = Array.from({ length: 40 }, (_, i) => i);
      const key = ids.find((id) => router.shardFor(id) === 'pooled')!;
      const pooledRows = ids.filter((id) => router.shardFor(id) === 'pooled').length;
      const onPrimary = await router.query(key, 'SELECT pg_is_in_recovery() AS standby', [], {
        role: 'write',
      });
      expect(onPrimary.rows[0]!.standby).toBe(false);
      // The replica catches up asynchronously; once it has the rows, reads are served there.
      await waitUntil(
        async () => {
          const read = await router.query(
            key,
            'SELECT pg_is_in_recovery() AS standby, COUNT(*) AS n FROM notes',
            [],
            { role: 'read' },
          );
          return read.rows[0]!.standby === true && Number(read.rows[0]!.n) === pooledRows;
        },
        { timeoutMs: 20_000, message: 'a read served by the replica' },
      );
      const all = await router.queryAll('SELECT id FROM notes ORDER BY id LIMIT 40', [], {
        orderBy: [{ column: 'id' }],
        limit: 40,
        role: 'read',
      });
      expect(all.rows.map((r) => Number(r.id))).toEqual(Array.from({ length: 40 }, (_, i) => i));
    } finally {
      await router.close();
      await pooled.close();
    }
  });
});
