/**
 * The cross-shard contract every backend runs (PGlite, PostgreSQL on two servers, MariaDB): the
 * same rows are spread over the shards by the router and also stored in one reference database;
 * every cross-shard query must return exactly what the reference database returns for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createShardManager,
  createShardRouter,
  jumpHashStrategy,
  type QueryAllOptions,
  rendezvousStrategy,
  type ShardPool,
  ShardQueryError,
  type ShardRouter,
  type SqlDialect,
} from '../src/index.js';

export interface ShardBackend {
  dialect: SqlDialect;
  /** Pools of the shards, by id (at least three). */
  shards: Record<string, ShardPool | object>;
  /** One database that receives every row. */
  reference: ShardPool | object;
  /** A pool whose queries fail (a database that does not exist, say). */
  broken: ShardPool | object;
  close(): Promise<void>;
}

type Row = Record<string, unknown>;

const ROWS = 480;
const statuses = ['new', 'paid', 'shipped', 'cancelled'];

/** Deterministic pseudo-random orders (a small LCG), so every run compares the same data. */
function orders() {
  let seed = 12345;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 0x100000000;
  };
  return Array.from({ length: ROWS }, (_, i) => {
    const id = 1000 + i * 7;
    const price = next() < 0.1 ? null : (Math.floor(next() * 100_000) / 100).toFixed(2);
    const created = new Date(Date.UTC(2026, 0, 1) + Math.floor(next() * 90 * 86_400) * 1000);
    return {
      id,
      customer: `c${String(Math.floor(next() * 40)).padStart(2, '0')}`,
      status: statuses[Math.floor(next() * statuses.length)]!,
      price,
      qty: 1 + Math.floor(next() * 9),
      created_at: created.toISOString().replace('T', ' ').replace('Z', ''),
    };
  });
}

/** Values in a form both sides agree on: numbers (and numeric strings) as numbers, dates as ISO. */
function normalize(rows: Row[], approx: string[] = []): Row[] {
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row)
        .filter(([k]) => !approx.includes(k))
        .map(([k, v]) => {
          if (v instanceof Date) return [k, v.toISOString()];
          if (
            typeof v === 'bigint' ||
            typeof v === 'number' ||
            (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v))
          )
            return [k, Number(v)];
          return [k, v];
        }),
    ),
  );
}

/**
 * AVG columns: the merge computes SUM / COUNT in double precision; the database rounds its own AVG
 * (MariaDB to the column's scale + 4 digits), so they agree to the digits the database printed.
 */
function expectAverages(merged: Row[], expected: Row[], approx: string[]) {
  expected.forEach((row, i) => {
    for (const column of approx) {
      const want = row[column];
      const got = merged[i]![column];
      if (want === null) {
        expect(got).toBeNull();
        continue;
      }
      const decimals = String(want).split('.')[1]?.length ?? 0;
      expect(Math.abs(Number(got) - Number(want))).toBeLessThanOrEqual(
        0.5 * 10 ** -Math.min(decimals, 12) + 1e-12 * Math.abs(Number(want)),
      );
    }
  });
}

export function crossShardContract(
  name: string,
  setup: () => Promise<ShardBackend>,
  options: { skip?: boolean } = {},
) {
  describe.skipIf(options.skip)(`cross-shard queries match one database: ${name}`, () => {
    let backend: ShardBackend;
    let router: ShardRouter;
    let reference: ShardRouter;
    const p = (i: number) => (backend.dialect === 'mysql' ? '?' : `$${i}`);
    const data = orders();

    beforeAll(async () => {
      backend = await setup();
      const shardIds = Object.keys(backend.shards);
      router = createShardRouter({
        strategy: jumpHashStrategy({ shards: shardIds }),
        shards: backend.shards as never,
      });
      reference = createShardRouter({
        strategy: jumpHashStrategy({ shards: ['ref'] }),
        shards: { ref: backend.reference as never },
      });
      const ddl =
        backend.dialect === 'mysql'
          ? 'CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(16) COLLATE utf8mb4_bin NOT NULL, status VARCHAR(16) COLLATE utf8mb4_bin NOT NULL, price DECIMAL(10,2) NULL, qty INT NOT NULL, created_at DATETIME(3) NOT NULL)'
          : 'CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(16) COLLATE "C" NOT NULL, status VARCHAR(16) COLLATE "C" NOT NULL, price NUMERIC(10,2) NULL, qty INT NOT NULL, created_at TIMESTAMP NOT NULL)';
      for (const shard of [...shardIds]) await router.queryShard(shard, ddl);
      await reference.queryShard('ref', ddl);
      const insert = (rows: typeof data) => {
        const values: unknown[] = [];
        const tuples = rows.map((r) => {
          const n = values.length;
          values.push(r.id, r.customer, r.status, r.price, r.qty, r.created_at);
          return `(${[1, 2, 3, 4, 5, 6].map((k) => p(n + k)).join(', ')})`;
        });
        return {
          sql: `INSERT INTO orders (id, customer, status, price, qty, created_at) VALUES ${tuples.join(', ')}`,
          values,
        };
      };
      // A few rows one by one through query(key, …), the rest in one batch per shard.
      for (const row of data.slice(0, 12)) {
        const { sql, values } = insert([row]);
        const result = await router.query(row.id, sql, values);
        expect(result.rowCount).toBe(1);
        expect(result.shard).toBe(router.shardFor(row.id));
      }
      for (const shard of shardIds) {
        const rows = data.slice(12).filter((r) => router.shardFor(r.id) === shard);
        if (rows.length > 0) await router.queryShard(shard, insert(rows).sql, insert(rows).values);
      }
      await reference.queryShard('ref', insert(data).sql, insert(data).values);
    });

    afterAll(async () => {
      await router?.close();
      await reference?.close();
      await backend?.close();
    });

    async function compare(
      shardSql: string,
      referenceSql: string,
      options: QueryAllOptions,
      params: unknown[] = [],
      approx: string[] = [],
    ) {
      const merged = await router.queryAll(shardSql, params, options);
      const expected = await reference.queryShard('ref', referenceSql, params);
      expect(merged.partial).toBe(false);
      expect(normalize(merged.rows, approx)).toEqual(normalize(expected.rows, approx));
      expectAverages(merged.rows, expected.rows, approx);
      return merged.rows;
    }

    it('spreads the rows over every shard, each row on the shard its key maps to', async () => {
      let total = 0;
      for (const shard of Object.keys(backend.shards)) {
        const { rows } = await router.queryShard(shard, 'SELECT id FROM orders');
        expect(rows.length).toBeGreaterThan(0);
        for (const row of rows) expect(router.shardFor(Number(row.id))).toBe(shard);
        total += rows.length;
      }
      expect(total).toBe(ROWS);
    });

    it('query(key) reads one row from its shard', async () => {
      const row = data[100]!;
      const { rows, shard } = await router.query(
        row.id,
        `SELECT id, customer FROM orders WHERE id = ${p(1)}`,
        [row.id],
      );
      expect(shard).toBe(router.shardFor(row.id));
      expect(normalize(rows)).toEqual([{ id: row.id, customer: row.customer }]);
      await expect(router.query(undefined as never, 'SELECT 1')).rejects.toMatchObject({
        code: 'NOA_SHARDING_NO_SHARD_KEY',
      });
      // The key forgotten: query(sql, params) names the mistake instead of running anywhere.
      await expect(
        router.query(`SELECT id FROM orders WHERE id = ${p(1)}` as never, [row.id] as never),
      ).rejects.toMatchObject({ code: 'NOA_SHARDING_NO_SHARD_KEY' });
    });

    it('ORDER BY … LIMIT (k-way merge), newest first', async () => {
      const sql = 'SELECT id, customer, created_at FROM orders ORDER BY created_at DESC, id DESC LIMIT 50';
      const rows = await compare(sql, sql, {
        orderBy: [
          { column: 'created_at', direction: 'desc' },
          { column: 'id', direction: 'desc' },
        ],
        limit: 50,
      });
      expect(rows).toHaveLength(50);
    });

    it('ORDER BY a nullable decimal, with NULL placement of the dialect, and OFFSET', async () => {
      const nulls = backend.dialect === 'mysql' ? 'first' : 'last';
      await compare(
        'SELECT id, price FROM orders ORDER BY price, id LIMIT 75',
        'SELECT id, price FROM orders ORDER BY price, id LIMIT 25 OFFSET 50',
        { orderBy: [{ column: 'price', nulls }, { column: 'id' }], limit: 25, offset: 50 },
      );
    });

    it('ORDER BY text with a binary collation, filtered with parameters', async () => {
      const sql = `SELECT customer, id FROM orders WHERE status = ${p(1)} AND qty >= ${p(2)} ORDER BY customer, id LIMIT 40`;
      await compare(sql, sql, { orderBy: [{ column: 'customer' }, { column: 'id' }], limit: 40 }, [
        'paid',
        3,
      ]);
    });

    it('COUNT / SUM / MIN / MAX / AVG over every shard (AVG from SUM and COUNT)', async () => {
      const rows = await compare(
        'SELECT COUNT(*) AS n, SUM(price) AS total, MIN(price) AS low, MAX(created_at) AS latest, SUM(price) AS avg_price_sum, COUNT(price) AS avg_price_count FROM orders',
        'SELECT COUNT(*) AS n, SUM(price) AS total, MIN(price) AS low, MAX(created_at) AS latest, AVG(price) AS avg_price FROM orders',
        { aggregate: { n: 'count', total: 'sum', low: 'min', latest: 'max', avg_price: 'avg' } },
        [],
        ['avg_price'],
      );
      expect(Number(rows[0]!.n)).toBe(ROWS);
    });

    it('GROUP BY with ORDER BY an aggregate, LIMIT and HAVING', async () => {
      await compare(
        'SELECT status, COUNT(*) AS n, SUM(qty) AS units, SUM(price) AS avg_price_sum, COUNT(price) AS avg_price_count FROM orders GROUP BY status',
        'SELECT status, COUNT(*) AS n, SUM(qty) AS units, AVG(price) AS avg_price FROM orders GROUP BY status HAVING COUNT(*) > 10 ORDER BY n DESC, status LIMIT 3',
        {
          groupBy: ['status'],
          aggregate: { n: 'count', units: 'sum', avg_price: 'avg' },
          having: (r) => Number(r.n) > 10,
          orderBy: [{ column: 'n', direction: 'desc' }, { column: 'status' }],
          limit: 3,
        },
        [],
        ['avg_price'],
      );
    });

    it('GROUP BY a column whose groups span every shard, top 10 by total', async () => {
      await compare(
        'SELECT customer, SUM(price) AS total, MAX(price) AS top, MIN(qty) AS least FROM orders GROUP BY customer',
        'SELECT customer, SUM(price) AS total, MAX(price) AS top, MIN(qty) AS least FROM orders GROUP BY customer ORDER BY total DESC, customer LIMIT 10',
        {
          groupBy: ['customer'],
          aggregate: { total: 'sum', top: 'max', least: 'min' },
          orderBy: [{ column: 'total', direction: 'desc' }, { column: 'customer' }],
          limit: 10,
        },
      );
    });

    it('runs at most `concurrency` shards at once and still merges every shard', async () => {
      const result = await router.queryAll('SELECT COUNT(*) AS n FROM orders', [], {
        aggregate: { n: 'count' },
        concurrency: 1,
      });
      expect(Number(result.rows[0]!.n)).toBe(ROWS);
      expect(result.shards).toEqual(Object.keys(backend.shards));
    });

    it('a failing shard fails the call naming it, unless allowPartial', async () => {
      const shards = { ...backend.shards, broken: backend.broken };
      const withBroken = createShardRouter({
        strategy: rendezvousStrategy({ shards: Object.keys(shards) }),
        shards: shards as never,
      });
      try {
        const error = await withBroken
          .queryAll('SELECT COUNT(*) AS n FROM orders', [], { aggregate: { n: 'count' } })
          .catch((e) => e);
        expect(error).toBeInstanceOf(ShardQueryError);
        expect(error).toMatchObject({ code: 'NOA_SHARDING_SHARD_FAILED', shard: 'broken' });
        expect(error.message).toContain('"broken"');
        const partial = await withBroken.queryAll('SELECT COUNT(*) AS n FROM orders', [], {
          aggregate: { n: 'count' },
          allowPartial: true,
        });
        expect(partial.partial).toBe(true);
        expect(partial.failures.map((f) => f.shard)).toEqual(['broken']);
        expect(Number(partial.rows[0]!.n)).toBe(ROWS);
      } finally {
        await withBroken.close();
      }
    });
  });
}

/** The shard-map contract: versions in a metadata database, routers that follow them. */
export function shardMapContract(
  name: string,
  setup: () => Promise<{
    metadata: ShardPool | object;
    shards: Record<string, ShardPool | object>;
    close(): Promise<void>;
  }>,
  options: { skip?: boolean } = {},
) {
  describe.skipIf(options.skip)(`shard map in a metadata database: ${name}`, () => {
    it('publishes versions, detects conflicts, and routers switch on a new version', async () => {
      const env = await setup();
      const writer = createShardManager({ metadata: env.metadata, name: 'orders', pollIntervalMs: 20 });
      const reader = createShardManager({ metadata: env.metadata, name: 'orders', pollIntervalMs: 20 });
      try {
        await writer.migrate();
        await writer.migrate(); // idempotent
        await expect(reader.load()).rejects.toMatchObject({ code: 'NOA_SHARDING_NO_SHARD_MAP' });
        const ids = Object.keys(env.shards);
        const v1 = await writer.publish(jumpHashStrategy({ shards: ids.slice(0, 2) }), {
          shardInfo: { [ids[0]!]: { region: 'eu', url: 'postgres://a' } },
        });
        expect(v1.version).toBe(1);
        const router = createShardRouter({ manager: reader, shards: env.shards as never });
        await router.ready();
        expect(router.version).toBe(1);
        expect(reader.current?.shards[ids[0]!]).toEqual({ region: 'eu', url: 'postgres://a' });
        expect(reader.current?.shards[ids[1]!]).toEqual({});
        const keys = Array.from({ length: 200 }, (_, i) => `tenant-${i}`);
        const before = keys.map((k) => router.shardFor(k));

        const reloads: number[] = [];
        router.on('reload', (version) => reloads.push(version));
        await expect(
          writer.publish(jumpHashStrategy({ shards: ids }), { expectedVersion: 0 }),
        ).rejects.toMatchObject({
          code: 'NOA_SHARDING_VERSION_CONFLICT',
        });
        const v2 = await writer.publish(jumpHashStrategy({ shards: ids }), { expectedVersion: 1 });
        expect(v2.version).toBe(2);
        // The reader polls every 20 ms and the router switches without being told.
        await waitFor(() => router.version === 2);
        expect(reloads).toEqual([2]);
        const after = keys.map((k) => router.shardFor(k));
        // Jump hashing: only keys that moved onto the new shards changed.
        after.forEach((shard, i) => {
          if (shard !== before[i]) expect(ids.slice(2)).toContain(shard);
        });
        expect((await writer.versions()).map((v) => v.version)).toEqual([1, 2]);
        expect((await reader.get(1)).strategy.shards).toEqual(ids.slice(0, 2));

        // A version naming a shard without pools is refused by the router, which keeps version 2.
        const errors: unknown[] = [];
        router.on('error', (e) => errors.push(e));
        await writer.publish(jumpHashStrategy({ shards: [...ids, 'nowhere'] }));
        await waitFor(() => errors.length > 0);
        expect(errors[0]).toMatchObject({ code: 'NOA_SHARDING_UNKNOWN_SHARD' });
        expect(router.version).toBe(2);
        await router.close();
        await expect(router.queryAll('SELECT 1')).rejects.toMatchObject({ code: 'NOA_SHARDING_CLOSED' });
      } finally {
        await writer.close();
        await reader.close();
        await env.close();
      }
      // The setup is part of the test: four embedded PGlite databases take seconds each to boot
      // on a loaded machine.
    }, 90_000);
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
