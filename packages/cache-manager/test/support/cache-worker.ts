/**
 * A cache instance in its own process, driven by its parent over IPC, for the multi-instance tests.
 * Environment: REDIS_NODES (comma-separated host:port; more than one = Cluster), NAMESPACE, KEY_PREFIX,
 * LOCK ('local' | 'distributed'), LEASE_MS. Requests: { id, op, args }; replies: { id, ok, value | error }.
 * Loaders count their runs with INCR on `<KEY_PREFIX>loads:<key>` so the parent can total them across processes.
 */
import { Cluster, Redis } from 'ioredis';
import { createCache, memoryTier } from '../../src/index.js';
import { redisBus, redisTier } from '../../src/redis.js';

const nodes = process.env.REDIS_NODES!.split(',').map((address) => {
  const [host, port] = address.split(':');
  return { host: host!, port: Number(port) };
});
const connect = () =>
  nodes.length > 1
    ? new Cluster(nodes, { lazyConnect: false })
    : new Redis({ ...nodes[0]!, lazyConnect: false });
const client = connect();
const subscriber = connect();
const keyPrefix = process.env.KEY_PREFIX!;
const cache = createCache({
  namespace: process.env.NAMESPACE!,
  tiers: [memoryTier({ maxEntries: 1_000 }), redisTier({ client, keyPrefix, timeoutMs: 2_000 })],
  bus: redisBus({ publisher: client, subscriber, timeoutMs: 2_000 }),
  lock: (process.env.LOCK as 'local' | 'distributed') ?? 'local',
  lockLeaseMs: Number(process.env.LEASE_MS ?? 5_000),
  lockWaitMs: 30_000,
});

type Request = { id: number; op: string; args: any[] };

const ops: Record<string, (...args: any[]) => Promise<unknown>> = {
  get: (key: string) => cache.get(key),
  set: (key: string, value: unknown, tags?: string[]) => cache.set(key, value, { tags }),
  delete: (key: string) => cache.delete(key),
  clear: () => cache.clear(),
  invalidateTags: (tags: string[]) => cache.invalidateTags(tags),
  getOrSet: (key: string, loadMs: number, value: unknown) =>
    cache.getOrSet(key, async () => {
      await client.incr(`${keyPrefix}loads:${key}`);
      process.send!({ event: 'loading', key });
      await new Promise((resolve) => setTimeout(resolve, loadMs));
      return value;
    }),
  ready: async () => true,
  close: async () => {
    await cache.close();
    client.disconnect();
    subscriber.disconnect();
    return true;
  },
};

process.on('message', async ({ id, op, args }: Request) => {
  try {
    const value = await ops[op]!(...args);
    process.send!({ id, ok: true, value: value === undefined ? { undefined: true } : { value } });
  } catch (error) {
    process.send!({ id, ok: false, error: String((error as Error)?.stack ?? error) });
  }
});
// Wait for the bus subscription before telling the parent we are ready.
await new Promise((resolve) => setTimeout(resolve, 50));
process.send!({ event: 'started' });
