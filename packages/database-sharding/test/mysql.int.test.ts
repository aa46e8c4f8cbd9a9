import { requireService, serviceUrl, uniqueName, waitUntil } from '@noa/testkit';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { createShardRouter, rendezvousStrategy } from '../src/index.js';
import { crossShardContract, shardMapContract } from './contract.js';

const mariadb = await requireService('mysql');
const url = serviceUrl('mysql');
const created: string[] = [];
const pools: mysql.Pool[] = [];

/** Creates a database and returns a mysql2 promise pool for it (dropped after the file). */
async function database(label: string): Promise<mysql.Pool> {
  const name = uniqueName(label);
  const admin = await mysql.createConnection(url);
  try {
    await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
  } finally {
    await admin.end();
  }
  created.push(name);
  const u = new URL(url);
  u.pathname = `/${name}`;
  const pool = mysql.createPool({ uri: u.toString(), connectionLimit: 4 });
  pools.push(pool);
  return pool;
}

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end().catch(() => {})));
  if (created.length === 0) return;
  const admin = await mysql.createConnection(url);
  for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.end();
});

crossShardContract(
  'MariaDB, three databases (mysql2 promise pools)',
  async () => {
    const shards = {
      m0: await database('shard_m0'),
      m1: await database('shard_m1'),
      // mysql.createPool's callback-API pool (under the promise wrapper) is a shard as it is.
      m2: (await database('shard_m2')).pool,
    };
    const u = new URL(url);
    u.pathname = `/${uniqueName('does_not_exist')}`;
    const broken = mysql.createPool({ uri: u.toString(), connectionLimit: 1 });
    pools.push(broken);
    return {
      dialect: 'mysql',
      shards,
      reference: await database('reference'),
      broken,
      close: async () => {},
    };
  },
  { skip: !mariadb.available },
);

shardMapContract(
  'MariaDB (metadata and shards; a mysql2 callback pool is recognised too)',
  async () => {
    const metadata = await database('metadata');
    return {
      // The callback-API pool under the promise wrapper: the manager adapts either.
      metadata: (metadata as unknown as { pool: object }).pool,
      shards: { a: await database('map_a'), b: await database('map_b'), c: await database('map_c') },
      close: async () => {},
    };
  },
  { skip: !mariadb.available },
);

describe.skipIf(!mariadb.available)('faults (MariaDB)', () => {
  it('a shard connection KILLed mid-query fails the call naming the shard; the next call sees every row', async () => {
    // k1 is a mysql2 callback-API pool: accepted by the router's types and adapted at run time.
    const shards = { k0: await database('kill_k0'), k1: (await database('kill_k1')).pool };
    const router = createShardRouter({ strategy: rendezvousStrategy({ shards: ['k0', 'k1'] }), shards });
    for (const shard of ['k0', 'k1'])
      await router.queryShard(shard, 'CREATE TABLE items (id INT PRIMARY KEY)');
    for (let id = 0; id < 100; id++) await router.query(id, 'INSERT INTO items (id) VALUES (?)', [id]);
    const slow = router.queryAll('SELECT COUNT(*) AS n, SLEEP(2) AS slept FROM items', [], {
      aggregate: { n: 'count' },
    });
    const k1 = created.find((name) => name.includes('kill_k1'))!;
    const admin = await mysql.createConnection(url);
    try {
      const running = await waitUntil(
        async () => {
          const [rows] = await admin.query(
            'SELECT id FROM information_schema.processlist WHERE db = ? AND info LIKE ?',
            [k1, '%SLEEP(2)%'],
          );
          return (rows as { id: number }[])[0]?.id;
        },
        { timeoutMs: 10_000, message: 'the slow query running on k1' },
      );
      await admin.query(`KILL ${Number(running)}`);
    } finally {
      await admin.end();
    }
    await expect(slow).rejects.toMatchObject({ code: 'NOA_SHARDING_SHARD_FAILED', shard: 'k1' });
    const after = await router.queryAll('SELECT COUNT(*) AS n FROM items', [], { aggregate: { n: 'count' } });
    expect(Number(after.rows[0]!.n)).toBe(100);
    await router.close();
  });
});
