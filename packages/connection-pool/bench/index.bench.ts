/**
 * @noa/connection-pool benchmarks, ours and the peer side by side in one run:
 * - acquire + release of a fake resource, pool size 10, with 10 / 100 / 1000 callers competing
 *   (so 0 / 90 / 990 waiting), against generic-pool and tarn;
 * - `SELECT 1` at 32 in flight on real PostgreSQL against pg's Pool, and on MariaDB against
 *   mysql2's pool (both pools capped at 10 connections).
 * Run: pnpm --filter @noa/connection-pool bench (NOA_BENCH_QUICK=1 for a short run).
 */
import { fileURLToPath } from 'node:url';
import { type BenchTable, compare, isReachable, serviceUrl, writeBenchResults } from '@noa/testkit';
import * as genericPool from 'generic-pool';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { Pool as TarnPool } from 'tarn';
import { mysqlDriver } from '../src/drivers/mysql.js';
import { postgresDriver } from '../src/drivers/postgres.js';
import { createPool, createResourcePool } from '../src/index.js';

const quick = process.env.NOA_BENCH_QUICK === '1';
const timeMs = quick ? 150 : 500;
const rounds = quick ? 2 : 5;
const tables: BenchTable[] = [];

// --- acquire + release, fake resource ------------------------------------------------------------
interface Fake {
  id: number;
}
let nextId = 0;
const makeFake = (): Fake => ({ id: ++nextId });

for (const callers of [10, 100, 1000]) {
  const ours = createResourcePool<Fake>({
    create: async () => makeFake(),
    destroy: () => {},
    min: 10,
    max: 10,
  });
  const generic = genericPool.createPool<Fake>(
    { create: async () => makeFake(), destroy: async () => {} },
    { min: 10, max: 10 },
  );
  const tarn = new TarnPool<Fake>({
    create: (callback: (error: Error | null, resource: Fake) => void) => callback(null, makeFake()),
    destroy: () => {},
    min: 10,
    max: 10,
    acquireTimeoutMillis: 30_000,
  });
  const result = await compare(
    `Acquire + release of a fake resource: pool of 10, ${callers} callers competing`,
    {
      '@noa/connection-pool': () => ours.acquire().then((lease) => lease.release()),
      'generic-pool': () => generic.acquire().then((resource) => generic.release(resource)),
      tarn: () => tarn.acquire().promise.then((resource) => tarn.release(resource)),
    },
    {
      id: `pool-acquire-release-${callers}`,
      timeMs,
      rounds,
      concurrency: callers,
      notes: [`${Math.max(0, callers - 10)} callers waiting at any time; one op = one acquire + release`],
    },
  );
  tables.push(result.table);
  await ours.close();
  await generic.drain();
  await generic.clear();
  await tarn.destroy();
}

// --- SELECT 1 on PostgreSQL and MariaDB --------------------------------------------------------
interface Closable {
  close?(): Promise<void>;
  end?(): Promise<void>;
}

/** One SELECT 1 table: our pool (plain and prepared) beside the client's own pool. */
async function select1(
  server: string,
  id: string,
  tasks: Record<string, [Closable, () => Promise<unknown>]>,
  baseline: string,
): Promise<void> {
  const result = await compare(
    `SELECT 1 on ${server}, 32 in flight, 10 connections`,
    Object.fromEntries(Object.entries(tasks).map(([name, [, run]]) => [name, run])),
    { id, baseline, timeMs, rounds: quick ? rounds : 7, concurrency: 32 },
  );
  tables.push(result.table);
  await Promise.all(Object.values(tasks).map(([pool]) => (pool.close ? pool.close() : pool.end?.())));
}

const postgresUrl = serviceUrl('postgres');
if (await isReachable(postgresUrl)) {
  const ours = createPool({ driver: postgresDriver({ primary: postgresUrl }), max: 10 });
  const prepared = createPool({ driver: postgresDriver({ primary: postgresUrl }), max: 10, prepare: true });
  const peer = new pg.Pool({ connectionString: postgresUrl, max: 10 });
  await select1(
    'PostgreSQL',
    'pool-postgres-select1',
    {
      '@noa/connection-pool': [ours, () => ours.query('SELECT 1')],
      '@noa/connection-pool (prepare)': [prepared, () => prepared.query('SELECT $1::int', [1])],
      'pg.Pool': [peer, () => peer.query('SELECT 1')],
    },
    'pg.Pool',
  );
} else {
  console.log(`\nskipped: PostgreSQL is unreachable at ${postgresUrl} (scripts/services/up.sh)`);
}

const mysqlUrl = serviceUrl('mysql');
if (await isReachable(mysqlUrl)) {
  const ours = createPool({ driver: mysqlDriver({ primary: mysqlUrl }), max: 10 });
  const prepared = createPool({ driver: mysqlDriver({ primary: mysqlUrl }), max: 10, prepare: true });
  const peer = mysql.createPool({ uri: mysqlUrl, connectionLimit: 10 });
  await select1(
    'MariaDB',
    'pool-mariadb-select1',
    {
      '@noa/connection-pool': [ours, () => ours.query('SELECT 1')],
      '@noa/connection-pool (execute)': [prepared, () => prepared.query('SELECT ?', [1])],
      'mysql2 pool': [peer, () => peer.query('SELECT 1')],
    },
    'mysql2 pool',
  );
} else {
  console.log(`\nskipped: MariaDB is unreachable at ${mysqlUrl} (scripts/services/up.sh)`);
}

const file = writeBenchResults(fileURLToPath(new URL('..', import.meta.url)), 'connection-pool', tables);
console.log(`\nwrote ${file}`);
