import { createMemoryMetrics } from '@noa/core';
import { describe, expect, it } from 'vitest';
import {
  createShardManager,
  createShardRouter,
  hashStrategy,
  jumpHashStrategy,
  type ShardPool,
} from '../src/index.js';
import { createPgliteShard } from '../src/pglite.js';

/** A fake pool that records calls and answers after `delayMs`; used where behaviour, not SQL, is under test. */
function fakePool(name: string, options: { delayMs?: number; fail?: boolean; hang?: boolean } = {}) {
  const calls: { sql: string; args: number; role?: string }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let ended = 0;
  const pool = {
    calls,
    get maxInFlight() {
      return maxInFlight;
    },
    get ended() {
      return ended;
    },
    async query(...args: [sql: string, params?: unknown[], opts?: { role?: string }]) {
      const [sql, , opts] = args;
      calls.push({ sql, args: args.length, role: opts?.role });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (options.hang) await new Promise(() => {});
        await new Promise((r) => setTimeout(r, options.delayMs ?? 1));
        if (options.fail) throw new Error(`${name} is down`);
        return { rows: [{ source: name }], rowCount: 1 };
      } finally {
        inFlight--;
      }
    },
    async close() {
      ended++;
    },
  };
  return pool;
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);

describe('router (fake pools)', () => {
  it('queryAll keeps at most `concurrency` shards in flight and queries each once', async () => {
    const pools = Object.fromEntries(ids(10).map((id) => [id, fakePool(id, { delayMs: 5 })]));
    const router = createShardRouter({
      strategy: hashStrategy({ shards: ids(10) }),
      shards: pools,
      concurrency: 3,
    });
    const result = await router.queryAll('SELECT 1');
    expect(result.rows).toHaveLength(10);
    for (const pool of Object.values(pools)) expect(pool.calls).toHaveLength(1);
    expect(Math.max(...Object.values(pools).map((p) => p.maxInFlight))).toBe(1);
    const shared = fakePool('shared', { delayMs: 5 });
    const one = createShardRouter({
      strategy: hashStrategy({ shards: ids(10) }),
      shards: Object.fromEntries(ids(10).map((id) => [id, shared])),
    });
    await one.queryAll('SELECT 1', [], { concurrency: 4 });
    expect(shared.maxInFlight).toBe(4);
    expect(shared.calls).toHaveLength(10);
  });

  it('without allowPartial, the first failure stops new shards from starting', async () => {
    const pools = Object.fromEntries(ids(5).map((id, i) => [id, fakePool(id, { fail: i === 0 })]));
    const router = createShardRouter({
      strategy: hashStrategy({ shards: ids(5) }),
      shards: pools,
      concurrency: 1,
    });
    await expect(router.queryAll('SELECT 1')).rejects.toMatchObject({
      code: 'NOA_SHARDING_SHARD_FAILED',
      shard: 's0',
    });
    expect(pools.s1!.calls).toHaveLength(0);
    const partial = await router.queryAll('SELECT 1', [], { allowPartial: true });
    expect(partial.rows).toHaveLength(4);
    expect(partial.failures).toEqual([
      { shard: 's0', error: expect.objectContaining({ message: 's0 is down' }) },
    ]);
  });

  it('reads go to replicas round-robin, writes to the primary; a failing replica falls back to the primary', async () => {
    const primary = fakePool('primary');
    const r1 = fakePool('r1');
    const r2 = fakePool('r2', { fail: true });
    const router = createShardRouter({
      strategy: hashStrategy({ shards: ['s0'] }),
      shards: { s0: { primary, replicas: [r1, r2] } },
    });
    const errors: string[] = [];
    router.on('shard-error', (shard, _error, role) => errors.push(`${shard}:${role}`));
    const sources = [];
    for (let i = 0; i < 4; i++)
      sources.push((await router.query('k', 'SELECT 1', [], { role: 'read' })).rows[0]!.source);
    expect(sources).toEqual(['r1', 'primary', 'r1', 'primary']);
    expect(errors).toEqual(['s0:read', 's0:read']);
    expect((await router.query('k', 'UPDATE t SET x = 1')).rows[0]!.source).toBe('primary');
    expect(primary.calls.at(-1)!.role).toBe('write');
  });

  it('passes { role } to ShardPool-contract pools (@noa/connection-pool) but never to pg-shaped pools', async () => {
    const contract = fakePool('contract');
    const pgShaped = Object.assign(fakePool('pg'), { idleCount: 0, waitingCount: 0 });
    const router = createShardRouter({
      strategy: hashStrategy({ shards: ['a', 'b'] }),
      shards: { a: contract, b: pgShaped },
    });
    await router.queryAll('SELECT 1', [], { role: 'read' });
    expect(contract.calls[0]).toMatchObject({ args: 3, role: 'read' });
    expect(pgShaped.calls[0]!.args).toBe(2);
  });

  it('timeoutMs fails a hung shard with NOA_TIMEOUT, named in the error', async () => {
    const router = createShardRouter({
      strategy: hashStrategy({ shards: ['ok', 'hung'] }),
      shards: { ok: fakePool('ok'), hung: fakePool('hung', { hang: true }) },
      timeoutMs: 50,
    });
    const error = await router.queryAll('SELECT 1').catch((e) => e);
    expect(error).toMatchObject({ code: 'NOA_SHARDING_SHARD_FAILED', shard: 'hung' });
    expect(error.cause).toMatchObject({ code: 'NOA_TIMEOUT' });
  });

  it('validates options, keys and shard ids with clear errors', async () => {
    expect(() => createShardRouter({} as never)).toThrow(/strategy` or `manager/);
    expect(() =>
      createShardRouter({ strategy: hashStrategy({ shards: ['a', 'b'] }), shards: { a: fakePool('a') } }),
    ).toThrow(
      expect.objectContaining({
        code: 'NOA_SHARDING_UNKNOWN_SHARD',
        message: expect.stringContaining('"b"'),
      }),
    );
    expect(() =>
      createShardRouter({ strategy: hashStrategy({ shards: ['a'] }), shards: { a: {} as ShardPool } }),
    ).toThrow(/query\(sql, params\)/);
    const a = fakePool('a');
    const router = createShardRouter({
      strategy: hashStrategy({ shards: ['a'] }),
      shards: { a },
    });
    await expect(router.query(null as never, 'SELECT 1')).rejects.toMatchObject({
      code: 'NOA_SHARDING_NO_SHARD_KEY',
    });
    // The key forgotten from JavaScript: the SQL lands where the key goes, and no shard is queried.
    await expect(router.query('SELECT * FROM t WHERE id = $1' as never, [7] as never)).rejects.toMatchObject({
      code: 'NOA_SHARDING_NO_SHARD_KEY',
      message: expect.stringContaining('queryAll'),
    });
    await expect(router.query('SELECT 1' as never, undefined as never)).rejects.toMatchObject({
      code: 'NOA_SHARDING_NO_SHARD_KEY',
    });
    expect(a.calls).toHaveLength(0);
    await expect(router.query({} as never, 'SELECT 1')).rejects.toMatchObject({
      code: 'NOA_SHARDING_INVALID_KEY',
    });
    await expect(router.queryShard('zz', 'SELECT 1')).rejects.toMatchObject({
      code: 'NOA_SHARDING_UNKNOWN_SHARD',
    });
    await expect(router.query('k', '')).rejects.toThrow(/non-empty/);
    await expect(router.queryAll('SELECT 1', [], { concurrency: 0 })).rejects.toThrow(/concurrency/);
  });

  it('close() waits for in-flight queries, then refuses new ones; metrics count outcomes', async () => {
    const metrics = createMemoryMetrics();
    const pool = fakePool('a', { delayMs: 30 });
    const router = createShardRouter({
      strategy: hashStrategy({ shards: ['a'] }),
      shards: { a: pool },
      metrics,
    });
    const pending = router.query('k', 'SELECT 1');
    await router.close();
    await expect(pending).resolves.toMatchObject({ shard: 'a' });
    await expect(router.query('k', 'SELECT 1')).rejects.toMatchObject({ code: 'NOA_SHARDING_CLOSED' });
    expect(metrics.value('sharding_queries_total', { shard: 'a', outcome: 'ok' })).toBe(1);
    expect(pool.ended).toBe(0); // the caller's pool stays open
  });
});

describe('router following a shard map (PGlite metadata)', () => {
  it('connects to shards that appear in a new version from their published info, and ends those pools on close', async () => {
    const metadata = await createPgliteShard();
    const manager = createShardManager({ metadata, pollIntervalMs: 20 });
    await manager.migrate();
    await manager.publish(jumpHashStrategy({ shards: ['a'] }), { shardInfo: { a: { url: 'mem://a' } } });
    const made: Record<string, ReturnType<typeof fakePool>> = {};
    const router = createShardRouter({
      manager,
      connect: (shard, info) => {
        made[shard] = fakePool(String(info.url));
        return made[shard]!;
      },
    });
    expect(router.strategy?.shards).toEqual(['a']);
    await manager.publish(jumpHashStrategy({ shards: ['a', 'b'] }), { shardInfo: { b: { url: 'mem://b' } } });
    expect(router.version).toBe(2);
    const all = await router.queryAll('SELECT 1');
    expect(all.rows.map((r) => r.source).sort()).toEqual(['mem://a', 'mem://b']);
    await router.close();
    expect(made.a!.ended).toBe(1);
    expect(made.b!.ended).toBe(1);
    await manager.close();
    await metadata.close();
  });

  it('a router created before anything is published fails clearly, then works after publish', async () => {
    const metadata = await createPgliteShard();
    const manager = createShardManager({ metadata, pollIntervalMs: 20 });
    await manager.migrate();
    const router = createShardRouter({ manager, shards: { a: fakePool('a') } });
    expect(() => router.shardFor('k')).toThrow(expect.objectContaining({ code: 'NOA_SHARDING_NOT_READY' }));
    await expect(router.query('k', 'SELECT 1')).rejects.toMatchObject({ code: 'NOA_SHARDING_NO_SHARD_MAP' });
    await manager.publish(hashStrategy({ shards: ['a'] }));
    await expect(router.query('k', 'SELECT 1')).resolves.toMatchObject({ shard: 'a' });
    await router.close();
    await manager.close();
    await metadata.close();
  });
});
