import { createPool, createResourcePool } from '@noa/connection-pool';
import { createMemoryCluster, memoryDriver } from '@noa/connection-pool/memory';

export const title = '@noa/connection-pool: resource pool, read/write splitting, lag, causal reads, failover';

export async function run(): Promise<void> {
  // A generic pool of anything: here "connections" are plain objects.
  let opened = 0;
  const pool = createResourcePool({
    create: async () => ({ id: ++opened }),
    destroy: () => {},
    max: 2,
    acquireTimeoutMs: 50,
    leakDetectionMs: 30,
  });
  pool.once('leak', ({ heldMs, stack }) =>
    console.log(
      `  resource pool: leak reported after ${heldMs} ms, acquired ${stack.split('\n')[1]?.trim()}`,
    ),
  );
  const order: number[] = [];
  const a = await pool.acquire();
  const b = await pool.acquire();
  const waiters = [1, 2, 3].map((n) =>
    pool.acquire().then((lease) => {
      order.push(n);
      lease.release();
    }),
  );
  a.release();
  b.release();
  await Promise.all(waiters);
  console.log(
    `  resource pool: 3 waiters on a pool of 2 served in FIFO order ${order.join(', ')}; ${opened} opened`,
  );
  const held = await pool.acquire();
  await pool.acquire();
  const timedOut = await pool.acquire().catch((e: { code: string }) => e.code);
  console.log(`  resource pool: a third acquire with both held fails with ${timedOut}`);
  await new Promise((r) => setTimeout(r, 60));
  held.release();
  await pool.close({ timeoutMs: 10 });

  // A replicated cluster in memory: primary memory-0, replicas memory-1 and memory-2.
  const cluster = createMemoryCluster({ replicas: 2 });
  const db = createPool({
    driver: memoryDriver(cluster, { failover: true }),
    max: 4,
    maxReplicationLagMs: 20,
    causalWaitMs: 20,
    healthCheckIntervalMs: 60_000, // driven by hand below
  });
  await db.query('SET', ['greeting', 'hello']);
  const readers = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const conn = await db.acquire({ role: 'read' });
    readers.add(conn.node);
    conn.release();
  }
  console.log(
    `  read/write splitting: writes on ${db.primary}, reads balanced over ${[...readers].join(' and ')}`,
  );

  cluster.pauseReplication('memory-1');
  cluster.pauseReplication('memory-2');
  await db.query('SET', ['greeting', 'bonjour']);
  const stale = await db.query('GET', ['greeting'], { role: 'read' });
  const causal = await db.query('GET', ['greeting'], { role: 'read', consistency: 'causal' });
  console.log(
    `  causal reads: an eventual read from a paused replica says '${stale}', a causal one says '${causal}'`,
  );
  await new Promise((r) => setTimeout(r, 30));
  await db.checkHealth();
  const lag = db.stats().nodes['memory-1']!;
  console.log(
    `  lag: memory-1 is ${lag.health} (${lag.lagMs} ms behind > 20 ms) and out of rotation; reads fall back to the primary`,
  );
  cluster.resumeReplication('memory-1');
  cluster.resumeReplication('memory-2');
  await db.checkHealth();
  console.log(`  lag: caught up, memory-1 is ${db.stats().nodes['memory-1']!.health} again`);

  db.on('failover', ({ from, to }) => console.log(`  failover: ${from} died, following the promoted ${to}`));
  cluster.stop('memory-0');
  await db.checkHealth();
  const failedFast = await db.query('SET', ['greeting', 'hola']).catch((e: { code: string }) => e.code);
  console.log(`  failover: with the primary gone, writes fail fast with ${failedFast}`);
  cluster.promote('memory-1');
  await db.checkHealth();
  await db.query('SET', ['greeting', 'hola']);
  console.log(`  failover: writes go to ${db.primary} now -> '${await db.query('GET', ['greeting'])}'`);
  const { total, acquired, fallbacks, failovers } = db.stats();
  console.log(
    `  stats: ${total} connections open, ${acquired} acquires, ${fallbacks} fallbacks, ${failovers} failover`,
  );
  await db.close();
}
