import { RedisServerProcess as OwnRedisServer, requireService, uniqueName, waitUntil } from '@noa/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CacheEvents, createCache, memoryTier } from '../src/index.js';
import { redisBus, redisTier } from '../src/redis.js';

// Needs the redis-server binary (the shared server is never touched: these tests start their own).
const redis = await requireService('redis');
const TIMEOUT_MS = 200;

describe.skipIf(!redis.available)('surviving a Redis outage (own redis-server, killed and paused)', () => {
  let server: OwnRedisServer;
  const clients: Redis[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    server = await OwnRedisServer.start();
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    for (const client of clients) client.disconnect();
    await server?.stop();
  });

  // ioredis defaults (reconnect forever, offline queue on): the tier's timeouts must bound everything.
  const connect = () => {
    const client = new Redis(server.url);
    client.on('error', () => {}); // connection errors are expected here
    clients.push(client);
    return client;
  };
  const makeCache = (namespace: string, halfOpenAfterMs = 300, lock: 'local' | 'distributed' = 'local') => {
    const client = connect();
    const cache = createCache({
      namespace,
      tiers: [
        memoryTier(),
        redisTier({ client, timeoutMs: TIMEOUT_MS, breaker: { failureThreshold: 3, halfOpenAfterMs } }),
      ],
      bus: redisBus({ publisher: client, subscriber: connect(), timeoutMs: TIMEOUT_MS }),
      lock,
    });
    const errors: CacheEvents['error'][0][] = [];
    cache.on('error', (event) => errors.push(event));
    return { cache, errors };
  };
  const circuit = (cache: ReturnType<typeof makeCache>['cache']) => cache.stats().tiers[1]!.circuit;

  /** Every call finishes, with the loader's value, and none takes much longer than the timeout. */
  async function getOrSetDuringOutage(cache: ReturnType<typeof makeCache>['cache'], count: number) {
    const durations: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = Date.now();
      expect(await cache.getOrSet(`outage:${i}`, async () => `loaded ${i}`)).toBe(`loaded ${i}`);
      durations.push(Date.now() - started);
    }
    return durations;
  }

  it('keeps answering from memory and loaders while Redis is killed, and recovers after restart', async () => {
    const { cache, errors } = makeCache(uniqueName('killed'));
    await cache.set('warm', 'from memory');
    await server.kill();

    expect(await cache.get('warm')).toBe('from memory');
    const durations = await getOrSetDuringOutage(cache, 20);
    // A bound on hanging, not a speed claim: each call does at most a few timed-out Redis calls.
    expect(Math.max(...durations)).toBeLessThan(10 * TIMEOUT_MS);
    expect(circuit(cache)).toBe('open');
    expect(errors.length).toBeGreaterThan(0);
    // Writes and invalidations during the outage do not throw either.
    await cache.set('during', 1);
    await cache.delete('warm');
    await cache.invalidateTags(['t']);

    await server.restart();
    await waitUntil(
      async () => {
        await cache.get('probe');
        return circuit(cache) === 'closed';
      },
      { timeoutMs: 20_000, message: 'the circuit closes after Redis is back' },
    );
    await cache.set('after', 'stored in redis');
    const probe = connect();
    await waitUntil(async () => (await probe.exists(`noa:cache:${cache.namespace}:k:after`)) === 1);
    expect(unhandled).toEqual([]);
    await cache.close();
  });

  it('bounds every call when Redis stops answering (SIGSTOP) and recovers when it resumes', async () => {
    const { cache } = makeCache(uniqueName('paused'));
    await cache.set('k', 'v');
    server.pause();
    try {
      const durations = await getOrSetDuringOutage(cache, 10);
      expect(Math.max(...durations)).toBeLessThan(10 * TIMEOUT_MS);
      expect(circuit(cache)).toBe('open');
      expect(await cache.get('k')).toBe('v');
    } finally {
      server.resume();
    }
    await waitUntil(
      async () => {
        await cache.get('probe');
        return circuit(cache) === 'closed';
      },
      { timeoutMs: 20_000, message: 'the circuit closes after Redis resumes' },
    );
    expect(unhandled).toEqual([]);
    await cache.close();
  });

  it("bounds getOrSet with lock: 'distributed' by one timeout too (lease, write and release included)", async () => {
    const { cache } = makeCache(uniqueName('paused_lock'), 300, 'distributed');
    expect(await cache.getOrSet('warm', async () => 'v')).toBe('v'); // the lease path, Redis up
    server.pause();
    try {
      const durations = await getOrSetDuringOutage(cache, 8);
      // Each remote step (read, lease, write, publish) waiting its own timeout would take 4x.
      expect(Math.max(...durations)).toBeLessThan(2 * TIMEOUT_MS);
    } finally {
      server.resume();
    }
    expect(unhandled).toEqual([]);
    await cache.close();
  });

  it('an instance that missed bus messages during a blip does not keep stale data', async () => {
    const namespace = uniqueName('blip');
    const a = makeCache(namespace);
    const b = makeCache(namespace);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await a.cache.set('price', 100);
    expect(await b.cache.get('price')).toBe(100); // cached in b's memory

    await server.kill();
    await a.cache.set('price', 120); // reaches neither Redis nor b while Redis is down
    expect(await b.cache.get('price')).toBe(100);
    await server.restart();

    // b's subscriber reconnects and b drops its memory copies; a's queued message is delivered too.
    await waitUntil(async () => (await b.cache.get('price')) !== 100, {
      timeoutMs: 20_000,
      message: 'b stops serving the value it cached before the blip',
    });
    await a.cache.set('price', 130);
    await waitUntil(async () => (await b.cache.get('price')) === 130, { timeoutMs: 20_000 });
    expect(unhandled).toEqual([]);
    await a.cache.close();
    await b.cache.close();
  });

  it('a tag invalidated during an outage reaches instances that knew newer versions, and local versions do not run ahead', async () => {
    const namespace = uniqueName('tag_replay');
    const b = makeCache(namespace, 1_500);
    await b.cache.invalidateTags(['t']); // shared version 1, before a exists
    await b.cache.set('k', 'old', { tags: ['t'] }); // cached in b's memory with version 1
    const a = makeCache(namespace, 1_500); // knows nothing of t yet: version 0
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.pause();
    try {
      await getOrSetDuringOutage(a.cache, 3); // three timeouts open a's breaker (for 1.5 s)
      expect(circuit(a.cache)).toBe('open');
      await a.cache.invalidateTags(['t']); // a's local version 1 tells b nothing new
    } finally {
      server.resume();
    }
    // The replay (refused once more by the open breaker, then sent) bumps the shared version to 2
    // and says so on the bus: b drops its copy.
    await waitUntil(async () => (await b.cache.get('k')) === undefined, {
      timeoutMs: 20_000,
      message: 'b drops the entry of a tag invalidated on a during the outage',
    });
    const probe = connect();
    expect(await probe.hget(`noa:cache:${namespace}:t`, 't')).toBe('2');
    // a's versions are the store's again: what it writes now falls to the next invalidation.
    await a.cache.set('x', 'v', { tags: ['t'] });
    expect(await a.cache.get('x')).toBe('v');
    await b.cache.invalidateTags(['t']);
    await waitUntil(async () => (await a.cache.get('x')) === undefined, {
      timeoutMs: 5_000,
      message: 'a drops an entry written after the outage when b invalidates its tag',
    });
    expect(unhandled).toEqual([]);
    await a.cache.close();
    await b.cache.close();
  });

  it('replays deletes and tag invalidations made while Redis was unreachable once it answers again', async () => {
    const namespace = uniqueName('replay');
    // The breaker stays open long enough for the invalidations below to be refused, never sent.
    const { cache, errors } = makeCache(namespace, 1_500);
    await cache.set('gone', 'old value');
    await cache.set('tagged', 'old value', { tags: ['user:1'] });
    const probe = connect();
    const entryKey = (key: string) => `noa:cache:${namespace}:k:${key}`;
    expect(await probe.exists(entryKey('gone'), entryKey('tagged'))).toBe(2);

    server.pause();
    try {
      await getOrSetDuringOutage(cache, 3); // three timeouts open the breaker
      expect(circuit(cache)).toBe('open');
      await cache.delete('gone');
      await cache.invalidateTags(['user:1']);
    } finally {
      server.resume();
    }
    // Both reached Redis only as errors: refused by the open breaker, so they are queued for replay.
    const refused = errors.filter((e) => (e.error as { code?: string }).code === 'NOA_CIRCUIT_OPEN');
    expect(refused.map((e) => e.operation)).toEqual(expect.arrayContaining(['delete', 'invalidateTags']));
    expect(await probe.exists(entryKey('gone'))).toBe(1);

    // Once the breaker lets a trial call through, the queue is replayed in order.
    await waitUntil(async () => (await probe.exists(entryKey('gone'))) === 0, {
      timeoutMs: 20_000,
      message: 'the delete made during the outage reaches Redis',
    });
    // Another instance (no bus, empty memory) reads the tagged entry from Redis: its tag moved on.
    const other = createCache({ namespace, tiers: [memoryTier(), redisTier({ client: connect() })] });
    await waitUntil(async () => (await other.get('tagged')) === undefined, {
      timeoutMs: 20_000,
      message: 'the tag invalidation made during the outage reaches Redis',
    });
    expect(await probe.hget(`noa:cache:${namespace}:t`, 'user:1')).toBe('1');
    expect(unhandled).toEqual([]);
    await other.close();
    await cache.close();
  });
});
