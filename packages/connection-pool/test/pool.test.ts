import { createMemoryMetrics, isNoaError } from '@noa/core';
import { sleep, waitUntil } from '@noa/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryCluster, type MemoryCluster, memoryDriver } from '../src/drivers/memory.js';
import { createPool, type Pool, type PoolOptions } from '../src/index.js';

type MemoryPool = Pool<ReturnType<typeof memoryDriver>>;
const pools: MemoryPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close({ timeoutMs: 500 })));
});

function setup(
  replicas: number,
  options: Partial<PoolOptions<ReturnType<typeof memoryDriver>>> = {},
  failover = false,
): { cluster: MemoryCluster; pool: MemoryPool } {
  const cluster = createMemoryCluster({ replicas });
  const pool = createPool({
    driver: memoryDriver(cluster, { failover, weights: { 'memory-1': 3, 'memory-2': 1 } }),
    healthCheckIntervalMs: 60_000, // tests drive the checks with checkHealth()
    ...options,
  });
  pools.push(pool);
  return { cluster, pool };
}

const acquiredOn = (pool: MemoryPool, node: string) => pool.stats().nodes[node]!.acquired;

describe('createPool (memory cluster)', () => {
  it('validates options with NOA_INVALID_OPTION', () => {
    const cluster = createMemoryCluster();
    const bad: unknown[] = [
      {},
      { driver: memoryDriver(cluster), balancer: 'fastest' },
      { driver: memoryDriver(cluster), consistency: 'strong' },
      { driver: memoryDriver(cluster), maxReplicationLagMs: -1 },
      { driver: memoryDriver(cluster), healthCheckIntervalMs: 0 },
    ];
    for (const options of bad) {
      expect(() => createPool(options as never)).toThrowError(
        expect.objectContaining({ code: 'NOA_INVALID_OPTION' }),
      );
    }
  });

  it('sends writes to the primary and reads to replicas only when asked', async () => {
    const { pool, cluster } = setup(2);
    await pool.query('SET', ['k', 1]);
    expect(await pool.query('GET', ['k'])).toBe(1);
    for (let i = 0; i < 4; i++) expect(await pool.query('GET', ['k'], { role: 'read' })).toBe(1);
    expect(acquiredOn(pool, 'memory-0')).toBe(2);
    expect(acquiredOn(pool, 'memory-1')).toBe(2); // round-robin
    expect(acquiredOn(pool, 'memory-2')).toBe(2);
    const error = await pool.query('SET', ['x', 1], { role: 'read' }).catch((e: unknown) => e);
    expect(isNoaError(error, 'NOA_MEMORY_READ_ONLY')).toBe(true); // a write sent as a read fails loudly
    expect(cluster.snapshot('memory-1').get('x')).toBeUndefined();
  });

  it('runs transactions on the primary, committing or rolling back', async () => {
    const { pool, cluster } = setup(1);
    await pool.transaction(async (tx) => {
      expect(tx.node).toBe('memory-0');
      await tx.query('INCR', ['n']);
      await tx.query('INCR', ['n']);
    });
    await pool
      .transaction(async (tx) => {
        await tx.query('INCR', ['n']);
        throw new Error('nope');
      })
      .catch(() => {});
    expect(cluster.snapshot('memory-0').get('n')).toBe(2);
    expect(cluster.snapshot('memory-1').get('n')).toBe(2);
  });

  it('balances reads by weight and by least connections', async () => {
    const weighted = setup(2, { balancer: 'weighted' }).pool;
    for (let i = 0; i < 40; i++) await weighted.query('GET', ['k'], { role: 'read' });
    expect(acquiredOn(weighted, 'memory-1')).toBe(30);
    expect(acquiredOn(weighted, 'memory-2')).toBe(10);

    const least = setup(2, { balancer: 'least-connections' }).pool;
    const held = await least.acquire({ role: 'read' });
    for (let i = 0; i < 5; i++) await least.query('GET', ['k'], { role: 'read' });
    const other = held.node === 'memory-1' ? 'memory-2' : 'memory-1';
    expect(acquiredOn(least, other)).toBe(5); // the busy replica got none
    held.release();
  });

  it('takes a lagging replica out of rotation and puts it back when it catches up', async () => {
    const { pool, cluster } = setup(2, { maxReplicationLagMs: 30 });
    const events: string[] = [];
    pool.on('replica-lagging', ({ node }) => events.push(`lagging ${node}`));
    pool.on('replica-caught-up', ({ node }) => events.push(`caught-up ${node}`));
    cluster.pauseReplication('memory-1');
    await pool.query('SET', ['k', 'new']);
    await sleep(50);
    await pool.checkHealth();
    expect(pool.stats().nodes['memory-1']).toMatchObject({ health: 'lagging' });
    expect(pool.stats().nodes['memory-1']!.lagMs).toBeGreaterThan(30);
    for (let i = 0; i < 4; i++) expect(await pool.query('GET', ['k'], { role: 'read' })).toBe('new');
    expect(acquiredOn(pool, 'memory-1')).toBe(0);
    cluster.resumeReplication('memory-1');
    await pool.checkHealth();
    expect(pool.stats().nodes['memory-1']).toMatchObject({ health: 'up', lagMs: 0 });
    expect(events).toEqual(['lagging memory-1', 'caught-up memory-1']);
  });

  it('falls back to the primary when no replica is usable', async () => {
    const { pool, cluster } = setup(1, { maxReplicationLagMs: 10 });
    cluster.pauseReplication('memory-1');
    await pool.query('SET', ['k', 1]);
    await sleep(20);
    await pool.checkHealth();
    expect(await pool.query('GET', ['k'], { role: 'read' })).toBe(1);
    expect(pool.stats().fallbacks).toBe(1);
    expect(acquiredOn(pool, 'memory-1')).toBe(0);
  });

  it("causal reads wait for the replica to reach the primary's position, else fall back", async () => {
    const { pool, cluster } = setup(1, { causalWaitMs: 40 });
    cluster.pauseReplication('memory-1');
    await pool.query('SET', ['k', 'v1']);
    // eventual: the stale replica answers
    expect(await pool.query('GET', ['k'], { role: 'read' })).toBeNull();
    // causal: the replica never catches up within 40 ms, so the primary answers
    expect(await pool.query('GET', ['k'], { role: 'read', consistency: 'causal' })).toBe('v1');
    expect(pool.stats().fallbacks).toBe(1);
    // causal with the replica catching up while the read waits: served by the replica
    const read = pool.query('GET', ['k'], { role: 'read', consistency: 'causal' });
    setTimeout(() => cluster.resumeReplication('memory-1'), 10);
    expect(await read).toBe('v1');
    expect(pool.stats().fallbacks).toBe(1);
    expect(acquiredOn(pool, 'memory-1')).toBeGreaterThanOrEqual(3);
  });

  it('detects a dead replica, reroutes reads, and re-admits it when healthy', async () => {
    const { pool, cluster } = setup(2);
    const events: string[] = [];
    pool.on('node-down', ({ node }) => events.push(`down ${node}`));
    pool.on('node-up', ({ node }) => events.push(`up ${node}`));
    for (let i = 0; i < 4; i++) await pool.query('GET', ['k'], { role: 'read' });
    cluster.stop('memory-1');
    // in-flight failure is retried elsewhere (reads only) and the node is checked at once
    for (let i = 0; i < 6; i++) expect(await pool.query('GET', ['k'], { role: 'read' })).toBeNull();
    await waitUntil(() => pool.stats().nodes['memory-1']!.health === 'down');
    expect(pool.stats().nodes['memory-1']!.total).toBe(0);
    const before = acquiredOn(pool, 'memory-1');
    for (let i = 0; i < 4; i++) await pool.query('GET', ['k'], { role: 'read' });
    expect(acquiredOn(pool, 'memory-1')).toBe(before);
    cluster.start('memory-1');
    await pool.checkHealth();
    expect(pool.stats().nodes['memory-1']!.health).toBe('up');
    for (let i = 0; i < 4; i++) await pool.query('GET', ['k'], { role: 'read' });
    expect(acquiredOn(pool, 'memory-1')).toBeGreaterThan(before);
    expect(events).toEqual(['down memory-1', 'up memory-1']);
  });

  it('fails writes fast with a clear error when the primary is gone; reads continue on replicas', async () => {
    const { pool, cluster } = setup(1, { acquireTimeoutMs: 10_000 });
    await pool.query('SET', ['k', 1]);
    cluster.stop('memory-0');
    await pool.checkHealth();
    const started = Date.now();
    const error = await pool.query('SET', ['k', 2]).catch((e: unknown) => e);
    expect(isNoaError(error, 'NOA_POOL_PRIMARY_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toContain('memory-0');
    expect(Date.now() - started).toBeLessThan(5_000); // not the 10 s acquire timeout
    expect(await pool.query('GET', ['k'], { role: 'read' })).toBe(1);
  });

  it('a read waiting on a replica that goes down is served by another node, not after its timeout', async () => {
    const { pool, cluster } = setup(1, { max: 1, acquireTimeoutMs: 10_000 });
    const writer = await pool.acquire({ role: 'write' }); // the primary's only connection
    const reader = await pool.acquire({ role: 'read' }); // the replica's only connection
    expect(reader.node).toBe('memory-1');
    const waitingWrite = pool.query('SET', ['k', 1]).catch((e: unknown) => e);
    const waitingRead = pool.acquire({ role: 'read' });
    await sleep(20);
    expect(pool.stats().waiting).toBe(2);
    const started = Date.now();
    cluster.stop('memory-1');
    await pool.checkHealth();
    // The read that waited on the dead replica goes to the primary, where it waits its turn.
    writer.release();
    const rerouted = await waitingRead;
    expect(rerouted.node).toBe('memory-0');
    rerouted.release();
    expect(await waitingWrite).toBe('OK');
    expect(Date.now() - started).toBeLessThan(5_000); // nothing waited for the 10 s acquire timeout
    reader.release();
  });

  it('a write waiting for the primary fails with NOA_POOL_PRIMARY_UNAVAILABLE when the primary goes down', async () => {
    const { pool, cluster } = setup(1, { max: 1, acquireTimeoutMs: 10_000 });
    const writer = await pool.acquire({ role: 'write' });
    const waiting = pool.query('SET', ['k', 1]).catch((e: unknown) => e);
    await sleep(20);
    expect(pool.stats().waiting).toBe(1);
    const started = Date.now();
    cluster.stop('memory-0');
    await pool.checkHealth();
    const error = await waiting;
    expect(isNoaError(error, 'NOA_POOL_PRIMARY_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toContain('memory-0');
    expect(Date.now() - started).toBeLessThan(5_000); // not the 10 s acquire timeout
    writer.release();
  });

  it('follows a promoted candidate after the primary dies, and re-admits the old one as a replica', async () => {
    const { pool, cluster } = setup(1, {}, true);
    const failovers: string[] = [];
    pool.on('failover', ({ from, to }) => failovers.push(`${from} -> ${to}`));
    await pool.query('SET', ['k', 1]);
    cluster.stop('memory-0');
    cluster.promote('memory-1');
    await pool.checkHealth();
    expect(pool.primary).toBe('memory-1');
    expect(failovers).toEqual(['memory-0 -> memory-1']);
    await pool.query('SET', ['k', 2]);
    expect(cluster.snapshot('memory-1').get('k')).toBe(2);
    cluster.start('memory-0');
    await pool.checkHealth();
    expect(pool.stats().nodes['memory-0']).toMatchObject({ role: 'replica', health: 'up' });
    expect(pool.stats().failovers).toBe(1);
  });

  it('reports stats per node and in total', async () => {
    const { pool } = setup(1);
    await pool.query('SET', ['k', 1]);
    await pool.query('GET', ['k'], { role: 'read' });
    const stats = pool.stats();
    expect(Object.keys(stats.nodes)).toEqual(['memory-0', 'memory-1']);
    expect(stats.nodes['memory-0']).toMatchObject({
      role: 'primary',
      health: 'up',
      total: 1,
      idle: 1,
      acquired: 1,
    });
    expect(stats).toMatchObject({
      total: 2,
      idle: 2,
      active: 0,
      waiting: 0,
      acquired: 2,
      created: 2,
      leaks: 0,
    });
  });

  it('acquire({ signal }) can be cancelled and leaks nothing', async () => {
    const { pool } = setup(0, { max: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const pending = pool.acquire({ signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'NOA_ABORTED' });
    held.release();
    expect(pool.stats()).toMatchObject({ total: 1, active: 0, waiting: 0 });
  });

  it('publishes gauges and counters per node through Metrics after each health check', async () => {
    const metrics = createMemoryMetrics();
    const { pool, cluster } = setup(1, { metrics, maxReplicationLagMs: 10 });
    await pool.query('SET', ['k', 1]);
    await pool.query('GET', ['k'], { role: 'read' });
    await pool.checkHealth();
    expect(metrics.value('pool_connections', { node: 'memory-0', state: 'idle' })).toBe(1);
    expect(metrics.value('pool_acquires_total', { node: 'memory-0' })).toBe(1);
    expect(metrics.value('pool_node_up', { node: 'memory-1' })).toBe(1);
    cluster.stop('memory-1');
    await pool.query('GET', ['k'], { role: 'read' }); // retried on the primary
    await pool.checkHealth();
    expect(metrics.value('pool_node_up', { node: 'memory-1' })).toBe(0);
    await pool.checkHealth();
    expect(metrics.value('pool_acquires_total', { node: 'memory-0' })).toBe(2); // counters advance by deltas only
  });

  it('rejects an unknown role with NOA_INVALID_OPTION', async () => {
    const { pool } = setup(0);
    await expect(pool.query('GET', ['k'], { role: 'reed' as never })).rejects.toMatchObject({
      code: 'NOA_INVALID_OPTION',
    });
  });
});
