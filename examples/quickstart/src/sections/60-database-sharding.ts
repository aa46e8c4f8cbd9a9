import {
  createShardManager,
  createShardRouter,
  hashStrategy,
  jumpHashStrategy,
  rangeStrategy,
} from '@noa/database-sharding';
import { createPgliteShard } from '@noa/database-sharding/pglite';

export const title =
  '@noa/database-sharding: three PGlite databases as shards, cross-shard queries, a versioned shard map';

export async function run(): Promise<void> {
  const [s0, s1, s2] = await Promise.all([createPgliteShard(), createPgliteShard(), createPgliteShard()]);
  const shards = { s0, s1, s2 };
  try {
    // The shard map lives in a metadata database (here the first shard) with a version number.
    const manager = createShardManager({ metadata: shards.s0 });
    await manager.migrate();
    await manager.publish(jumpHashStrategy({ shards: ['s0', 's1', 's2'] }));
    const router = createShardRouter({ manager, shards });
    await router.ready();
    console.log(
      `  shard map version ${router.version}: jump consistent hashing over ${router.strategy?.shards.join(', ')}`,
    );

    for (const shard of Object.keys(shards)) {
      await router.queryShard(
        shard,
        'CREATE TABLE orders (id INT PRIMARY KEY, status TEXT, price NUMERIC(10,2), created_at TIMESTAMP)',
      );
    }
    for (let id = 1; id <= 60; id++) {
      await router.query(id, 'INSERT INTO orders VALUES ($1, $2, $3, $4)', [
        id,
        ['new', 'paid', 'shipped'][id % 3],
        (id * 3.25).toFixed(2),
        new Date(Date.UTC(2026, 0, 1, 0, id)).toISOString(),
      ]);
    }
    const perShard = await router.queryAll('SELECT COUNT(*) AS n FROM orders');
    console.log(
      `  60 orders routed by id: ${perShard.rows.map((r, i) => `${perShard.shards[i]}=${r.n}`).join(' ')}`,
    );

    const one = await router.query(42, 'SELECT id, status FROM orders WHERE id = $1', [42]);
    console.log(`  query(42) went to ${one.shard} only -> ${JSON.stringify(one.rows[0])}`);

    const newest = await router.queryAll(
      'SELECT id, created_at FROM orders ORDER BY created_at DESC LIMIT 3',
      [],
      {
        orderBy: [{ column: 'created_at', direction: 'desc' }],
        limit: 3,
      },
    );
    console.log(`  newest 3 across shards (k-way merge): ids ${newest.rows.map((r) => r.id).join(', ')}`);

    const byStatus = await router.queryAll(
      'SELECT status, COUNT(*) AS n, SUM(price) AS revenue, SUM(price) AS avg_price_sum, COUNT(price) AS avg_price_count FROM orders GROUP BY status',
      [],
      {
        groupBy: ['status'],
        aggregate: { n: 'count', revenue: 'sum', avg_price: 'avg' },
        orderBy: [{ column: 'status' }],
      },
    );
    for (const row of byStatus.rows) {
      console.log(
        `  ${row.status}: ${row.n} orders, revenue ${row.revenue}, average ${(row.avg_price as number).toFixed(2)} (SUM/COUNT over all shards)`,
      );
    }

    // Growing the cluster: jump hashing moves only the keys that belong on the new shard.
    const keys = Array.from({ length: 10_000 }, (_, i) => `user:${i}`);
    const jump3 = jumpHashStrategy({ shards: ['s0', 's1', 's2'] });
    const jump4 = jump3.withShards(['s0', 's1', 's2', 's3']);
    const mod3 = hashStrategy({ shards: ['s0', 's1', 's2'] });
    const mod4 = mod3.withShards(['s0', 's1', 's2', 's3']);
    const moved = (a: { shardFor(k: string): string }, b: { shardFor(k: string): string }) =>
      keys.filter((k) => a.shardFor(k) !== b.shardFor(k)).length / keys.length;
    console.log(
      `  3 -> 4 shards: jump moves ${(moved(jump3, jump4) * 100).toFixed(1)}% of keys (ideal 25%), hash mod n moves ${(moved(mod3, mod4) * 100).toFixed(1)}%`,
    );
    const ranges = rangeStrategy({
      ranges: [
        { shard: 'old', to: 1_000_000 },
        { shard: 'new', from: 1_000_000 },
      ],
    }).split(500_000, 'mid');
    console.log(
      `  range split: id 750000 now lives on ${ranges.shardFor(750_000)}; ranges ${ranges.ranges.length}`,
    );
    await router.close();
    await manager.close();
  } finally {
    for (const db of Object.values(shards)) await db.close();
  }
}
