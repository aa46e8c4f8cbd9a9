import { serviceUrl, uniqueName } from '@noa/testkit';
import mysql from 'mysql2/promise';
import pg from 'pg';

/** A fresh PostgreSQL database for one test file, with HypoPG and pg_stat_statements. */
export async function createPgDatabase(label: string) {
  const base = new URL(serviceUrl('postgres'));
  const name = uniqueName(label);
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  await pool.query('CREATE EXTENSION IF NOT EXISTS hypopg');
  await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  return {
    name,
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: base.toString() });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A fresh MariaDB database for one test file. */
export async function createMysqlDatabase(label: string) {
  const base = new URL(serviceUrl('mysql'));
  const name = uniqueName(label);
  const admin = await mysql.createConnection({ uri: base.toString() });
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  const pool = mysql.createPool({ uri: url.toString(), connectionLimit: 4, multipleStatements: false });
  return {
    name,
    pool,
    async drop() {
      await pool.end();
      const client = await mysql.createConnection({ uri: base.toString() });
      await client.query(`DROP DATABASE IF EXISTS ${name}`);
      await client.end();
    },
  };
}

/** Users and orders of a shop, seeded in the database with generate_series. */
export const PG_SHOP = [
  `CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, country text NOT NULL, created_at timestamptz NOT NULL)`,
  `INSERT INTO users SELECT g, 'user' || g || '@example.com', (ARRAY['de','fr','us','jp','br'])[1 + g % 5], now() - (g || ' minutes')::interval FROM generate_series(1, 50000) g`,
  `CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL, status text NOT NULL, total numeric NOT NULL, created_at timestamptz NOT NULL, a int NOT NULL, b int NOT NULL, note text NOT NULL)`,
  `INSERT INTO orders SELECT g, 1 + (g * 7919) % 50000, (ARRAY['new','paid','shipped','cancelled'])[1 + g % 4], (g % 1000) / 10.0, now() - (g || ' seconds')::interval, g % 100, g % 100, md5(g::text) FROM generate_series(1, 200000) g`,
  'ANALYZE users',
  'ANALYZE orders',
];
