import { requireService, serviceUrl, uniqueName } from '@noa/testkit';
import mysql from 'mysql2/promise';
import { afterAll } from 'vitest';
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
      m2: await database('shard_m2'),
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
