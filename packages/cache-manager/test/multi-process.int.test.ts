import { requireService, serviceUrl, uniqueName, waitUntil } from '@noa/testkit';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { unlinkByPrefix } from './support/cleanup.js';
import { requireRedisCluster } from './support/cluster.js';
import { CacheWorker, type WorkerOptions } from './support/workers.js';

const redis = await requireService('redis');
const cluster = await requireRedisCluster();
const keyPrefix = `${uniqueName('cache_mp')}:`;
const workers: CacheWorker[] = [];

const single = () => {
  const url = new URL(serviceUrl('redis'));
  return `${url.hostname}:${url.port || 6379}`;
};
const startWorkers = async (count: number, options: Omit<WorkerOptions, 'keyPrefix'>) => {
  const started = await Promise.all(
    Array.from({ length: count }, () => CacheWorker.start({ ...options, keyPrefix })),
  );
  workers.push(...started);
  return started;
};

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  if (redis.available) {
    const client = new Redis(serviceUrl('redis'));
    await unlinkByPrefix(client, keyPrefix);
    client.disconnect();
  }
}, 60_000);

/** set/delete/tags/clear on one process evict the copy every other process holds in memory. */
async function propagation(nodes: string, count: number) {
  const procs = await startWorkers(count, { nodes, namespace: uniqueName('mp') });
  const [writer, ...readers] = procs as [CacheWorker, ...CacheWorker[]];
  const everyoneSees = (key: string, expected: unknown) =>
    waitUntil(
      async () => (await Promise.all(readers.map((r) => r.call('get', key)))).every((v) => v === expected),
      {
        timeoutMs: 15_000,
        message: `every instance reads ${key} as ${String(expected)}`,
      },
    );
  await writer.call('set', 'user:1', 'v1', ['user:1']);
  await everyoneSees('user:1', 'v1'); // now in every memory tier
  await writer.call('set', 'user:1', 'v2', ['user:1']);
  await everyoneSees('user:1', 'v2');
  await readers[0]!.call('set', 'user:1', 'v3', ['user:1']); // any instance can write
  await waitUntil(async () => (await writer.call('get', 'user:1')) === 'v3');
  await everyoneSees('user:1', 'v3');
  await writer.call('invalidateTags', ['user:1']);
  await everyoneSees('user:1', undefined);
  await writer.call('set', 'post:1', 'p');
  await everyoneSees('post:1', 'p');
  await writer.call('delete', 'post:1');
  await everyoneSees('post:1', undefined);
  await writer.call('set', 'post:2', 'p2');
  await everyoneSees('post:2', 'p2');
  await writer.call('clear');
  await everyoneSees('post:2', undefined);
  await Promise.all(procs.map((p) => p.stop()));
}

/** Concurrent misses of one key in every process run the loader once in total. */
async function distributedOnce(nodes: string, count: number) {
  const procs = await startWorkers(count, { nodes, namespace: uniqueName('mp_lock'), lock: 'distributed' });
  const results = await Promise.all(
    procs.flatMap((p) => [
      p.call('getOrSet', 'report', 300, 'built'),
      p.call('getOrSet', 'report', 300, 'built'),
    ]),
  );
  expect(new Set(results)).toEqual(new Set(['built']));
  const loadEvents = procs.flatMap((p) => p.events.filter((e) => e.event === 'loading'));
  expect(loadEvents).toHaveLength(1);
  await Promise.all(procs.map((p) => p.stop()));
}

describe.skipIf(!redis.available)('cache instances in separate processes (single Redis node)', () => {
  it('two instances: invalidations propagate', () => propagation(single(), 2));
  it('four instances: invalidations propagate', () => propagation(single(), 4));
  it("four instances: lock: 'distributed' runs the loader once in total", () => distributedOnce(single(), 4));

  it('a lease holder killed with SIGKILL does not block the key: its lease expires', async () => {
    const namespace = uniqueName('mp_kill');
    const [holder, waiter] = await startWorkers(2, {
      nodes: single(),
      namespace,
      lock: 'distributed',
      leaseMs: 1_000,
    });
    const counter = new Redis(serviceUrl('redis'));
    const loadsKey = `${keyPrefix}loads:k`;
    void holder!.call('getOrSet', 'k', 60_000, 'from the holder').catch(() => {});
    await waitUntil(() => holder!.events.some((e) => e.event === 'loading'));
    holder!.child.kill('SIGKILL');
    await holder!.exited;
    // The waiter was not allowed to load while the lease was held; it loads once after expiry.
    expect(await waiter!.call('getOrSet', 'k', 10, 'from the waiter')).toBe('from the waiter');
    expect(waiter!.events.filter((e) => e.event === 'loading')).toHaveLength(1);
    expect(Number(await counter.get(loadsKey))).toBe(2);
    counter.disconnect();
    await waiter!.stop();
  });
});

describe.skipIf(!cluster.available || !redis.available)(
  'cache instances in separate processes (Redis Cluster)',
  () => {
    it('two instances on a Cluster: invalidations propagate', () => propagation(cluster.nodes, 2));
    it("two instances on a Cluster: lock: 'distributed' runs the loader once in total", () =>
      distributedOnce(cluster.nodes, 2));
  },
);
