import { isReachable, requireService, serviceUrl, uniqueName } from '@noa/testkit';
import pg from 'pg';
import { afterAll } from 'vitest';
import { crossShardContract, shardMapContract } from './contract.js';

const postgres = await requireService('postgres');
// The second, independent server (scripts/services/35-pg-shard-server.sh).
const SHARD_SERVER = process.env.NOA_PG_SHARD_URL ?? 'postgres://postgres@127.0.0.1:5434/test';
const shardServerUp = await isReachable(SHARD_SERVER);
if (!shardServerUp && (process.env.CI === 'true' || process.env.CI === '1')) {
  throw new Error(`the shard PostgreSQL server is unreachable at ${SHARD_SERVER}; start it with scripts/services/35-pg-shard-server.sh`);
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
    const broken = new pg.Pool({ connectionString: withDatabase(main, uniqueName('does_not_exist')), max: 1 });
    pools.push(broken);
    return { dialect: 'postgres', shards, reference: await database(main, 'reference'), broken, close: async () => {} };
  },
  { skip: !available },
);

shardMapContract(
  'PostgreSQL (metadata on 5432, shards on both servers)',
  async () => ({
    metadata: await database(main, 'metadata'),
    shards: { a: await database(main, 'map_a'), b: await database(SHARD_SERVER, 'map_b'), c: await database(main, 'map_c') },
    close: async () => {},
  }),
  { skip: !available },
);
