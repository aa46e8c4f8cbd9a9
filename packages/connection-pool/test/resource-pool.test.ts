import { isNoaError, NoaError } from '@noa/core';
import { sleep, waitUntil } from '@noa/testkit';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createResourcePool, type Lease, type ResourcePool, type ResourcePoolOptions } from '../src/index.js';

interface Thing {
  id: number;
  alive: boolean;
}

const pools: ResourcePool<unknown>[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close({ timeoutMs: 100 })));
});

function things(overrides: Partial<ResourcePoolOptions<Thing>> = {}) {
  let next = 0;
  const live = new Set<Thing>();
  const pool = createResourcePool<Thing>({
    create: async () => {
      const thing = { id: ++next, alive: true };
      live.add(thing);
      return thing;
    },
    destroy: (thing) => {
      thing.alive = false;
      live.delete(thing);
    },
    max: 2,
    ...overrides,
  });
  pools.push(pool as ResourcePool<unknown>);
  return { pool, live, created: () => next };
}

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (isNoaError(error) ? error.code : String(error)),
  );

describe('createResourcePool', () => {
  it('rejects bad options with NOA_INVALID_OPTION', () => {
    const base = { create: async () => 1, destroy: () => {} };
    for (const bad of [
      { max: 0 },
      { min: 3, max: 2 },
      { max: 1.5 },
      { acquireTimeoutMs: -1 },
      { idleTimeoutMs: Number.NaN },
    ]) {
      expect(() => createResourcePool({ ...base, ...bad })).toThrowError(
        expect.objectContaining({ code: 'NOA_INVALID_OPTION' }),
      );
    }
    expect(() => createResourcePool({ destroy: () => {} } as never)).toThrow(/create must be a function/);
  });

  it('reuses a released resource and never exceeds max', async () => {
    const { pool, created } = things({ max: 3 });
    const leases = await Promise.all(Array.from({ length: 3 }, () => pool.acquire()));
    expect(new Set(leases.map((l) => l.resource.id)).size).toBe(3);
    const fourth = pool.acquire();
    expect(pool.stats()).toMatchObject({ total: 3, active: 3, waiting: 1 });
    leases[0]!.release();
    expect((await fourth).resource.id).toBe(leases[0]!.resource.id);
    expect(created()).toBe(3);
  });

  it('serves waiters in FIFO order', async () => {
    const { pool } = things({ max: 1 });
    const first = await pool.acquire();
    const order: number[] = [];
    const waiting = Array.from({ length: 20 }, (_, i) =>
      pool.acquire().then((lease) => {
        order.push(i);
        setTimeout(() => lease.release(), 0);
      }),
    );
    first.release();
    await Promise.all(waiting);
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('times out an acquire, and the resource created for it is not leaked later', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const { pool, live } = things({ max: 1, acquireTimeoutMs: 30 });
    const slowPool = createResourcePool<Thing>({
      create: async () => {
        await gate;
        const thing = { id: 1, alive: true };
        live.add(thing);
        return thing;
      },
      destroy: (thing) => {
        live.delete(thing);
      },
      max: 1,
      acquireTimeoutMs: 30,
    });
    pools.push(slowPool as ResourcePool<unknown>);
    expect(await code(slowPool.acquire())).toBe('NOA_POOL_ACQUIRE_TIMEOUT');
    expect(slowPool.stats()).toMatchObject({ waiting: 0, timeouts: 1, pending: 1 });
    release();
    await waitUntil(() => slowPool.stats().idle === 1);
    expect(slowPool.stats()).toMatchObject({ total: 1, idle: 1, active: 0 });
    const lease = await slowPool.acquire();
    lease.release();
    await slowPool.close();
    expect(live.size).toBe(0);
    expect(pool.stats().total).toBe(0);
  });

  it('cancels a pending acquire with an AbortSignal without leaking', async () => {
    const { pool } = things({ max: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const pending = pool.acquire({ signal: controller.signal });
    controller.abort(new Error('user went away'));
    expect(await code(pending)).toBe('NOA_ABORTED');
    expect(await code(pool.acquire({ signal: AbortSignal.abort() }))).toBe('NOA_ABORTED');
    held.release();
    expect(pool.stats()).toMatchObject({ total: 1, idle: 1, active: 0, waiting: 0, aborted: 2 });
  });

  it('fails the waiter fast when create fails', async () => {
    let fail = true;
    const pool = createResourcePool({
      create: async () => {
        if (fail) throw new Error('ECONNREFUSED');
        return {};
      },
      destroy: () => {},
      max: 2,
    });
    pools.push(pool);
    const errors: unknown[] = [];
    pool.on('error', (e) => errors.push(e));
    expect(await code(pool.acquire())).toBe('NOA_POOL_CREATE_FAILED');
    expect(errors).toHaveLength(1);
    fail = false;
    (await pool.acquire()).release();
    expect(pool.stats()).toMatchObject({ total: 1, createFailures: 1 });
  });

  it('keeps min open, evicts idle resources above min', async () => {
    const { pool } = things({ min: 1, max: 3, idleTimeoutMs: 40, evictionIntervalMs: 10 });
    await waitUntil(() => pool.stats().idle === 1);
    const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const lease of leases) lease.release();
    expect(pool.stats().total).toBe(3);
    await waitUntil(() => pool.stats().total === 1, { message: 'idle eviction down to min' });
    expect(pool.stats()).toMatchObject({ total: 1, idle: 1, destroyed: 2 });
  });

  it('replaces resources older than maxLifetimeMs', async () => {
    const { pool } = things({ max: 1, maxLifetimeMs: 30, idleTimeoutMs: 0, evictionIntervalMs: 5 });
    const first = await pool.acquire();
    const id = first.resource.id;
    await sleep(40);
    first.release(); // too old: destroyed on return
    const second = await pool.acquire();
    expect(second.resource.id).not.toBe(id);
    second.release();
    await waitUntil(() => pool.stats().destroyed >= 2);
  });

  it('validates on borrow after idle and discards invalid resources', async () => {
    const { pool } = things({
      max: 1,
      validateAfterIdleMs: 0,
      validate: (thing) => thing.alive,
    });
    const first = await pool.acquire();
    first.release();
    first.resource.alive = false; // broken while idle
    const second = await pool.acquire();
    expect(second.resource.id).not.toBe(first.resource.id);
    expect(pool.stats()).toMatchObject({ validationFailures: 1, destroyed: 1, total: 1 });
    second.release();
  });

  it('skips validation for resources used recently (cheap borrow)', async () => {
    let validations = 0;
    const { pool } = things({
      max: 1,
      validateAfterIdleMs: 60_000,
      validate: () => {
        validations++;
        return true;
      },
    });
    for (let i = 0; i < 5; i++) (await pool.acquire()).release();
    expect(validations).toBe(0);
  });

  it('destroy() discards a broken resource and a waiter gets a new one', async () => {
    const { pool } = things({ max: 1 });
    const first = await pool.acquire();
    const next = pool.acquire();
    first.destroy();
    expect((await next).resource.id).toBe(2);
    expect(() => first.release()).toThrowError(
      expect.objectContaining({ code: 'NOA_POOL_ALREADY_RELEASED' }),
    );
  });

  it('reports a leak with the acquiring stack', async () => {
    const { pool } = things({ max: 1, leakDetectionMs: 20 });
    const leaks: { stack: string; heldMs: number }[] = [];
    pool.on('leak', (info) => leaks.push(info));
    async function forgetfulHandler(): Promise<Lease<Thing>> {
      return pool.acquire();
    }
    const lease = await forgetfulHandler();
    await waitUntil(() => leaks.length === 1);
    expect(leaks[0]!.stack).toContain('forgetfulHandler');
    expect(leaks[0]!.heldMs).toBeGreaterThanOrEqual(20);
    await sleep(50);
    expect(pool.stats().leaks).toBe(1); // reported once
    lease.release();
  });

  it('failWaiters(error) rejects the acquires waiting now; later ones wait and are served as usual', async () => {
    const { pool } = things({ max: 1, acquireTimeoutMs: 10_000 });
    const lease = await pool.acquire();
    const waiters = [pool.acquire(), pool.acquire()];
    pool.failWaiters(new NoaError('NOA_POOL_NODE_DOWN', 'gone'));
    expect(await Promise.all(waiters.map(code))).toEqual(['NOA_POOL_NODE_DOWN', 'NOA_POOL_NODE_DOWN']);
    expect(pool.stats().waiting).toBe(0);
    const later = pool.acquire();
    lease.release();
    (await later).release();
  });

  it('close() waits for busy resources, rejects waiters and new acquires', async () => {
    const { pool, live } = things({ max: 1 });
    const lease = await pool.acquire();
    const waiter = pool.acquire();
    let closed = false;
    const closing = pool.close().then(() => {
      closed = true;
    });
    expect(await code(waiter)).toBe('NOA_POOL_CLOSED');
    expect(await code(pool.acquire())).toBe('NOA_POOL_CLOSED');
    await sleep(20);
    expect(closed).toBe(false);
    lease.release();
    await closing;
    expect(live.size).toBe(0);
  });

  it('close({ timeoutMs }) destroys resources that never come back', async () => {
    const { pool, live } = things({ max: 1 });
    const lease = await pool.acquire();
    await pool.close({ timeoutMs: 20 });
    expect(live.size).toBe(0);
    lease.release(); // late release after a forced close is harmless
  });

  it('clear() retires idle and busy resources', async () => {
    const { pool } = things({ max: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    b.release();
    pool.clear();
    expect(pool.stats()).toMatchObject({ total: 1, idle: 0 });
    a.release();
    expect(pool.stats()).toMatchObject({ total: 0, destroyed: 2 });
  });

  it('use() releases even when the callback throws', async () => {
    const { pool } = things();
    await expect(pool.use(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await pool.use((thing) => thing.id)).toBe(1);
    expect(pool.stats()).toMatchObject({ active: 0, idle: 1 });
  });

  it('property: under random acquire/release/abort/timeout, counts stay consistent and nothing leaks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.constantFrom('acquire', 'release', 'abort', 'destroy', 'tick'), { maxLength: 60 }),
        async (max, ops) => {
          const live = new Set<number>();
          let next = 0;
          const pool = createResourcePool<number>({
            create: async () => {
              const id = ++next;
              live.add(id);
              return id;
            },
            destroy: (id) => {
              live.delete(id);
            },
            max,
            acquireTimeoutMs: 5,
          });
          const held: Lease<number>[] = [];
          const pending: { controller: AbortController; promise: Promise<void> }[] = [];
          for (const op of ops) {
            if (op === 'acquire') {
              const controller = new AbortController();
              const promise = pool.acquire({ signal: controller.signal }).then(
                (lease) => {
                  held.push(lease);
                },
                () => {},
              );
              pending.push({ controller, promise });
            } else if (op === 'release') held.shift()?.release();
            else if (op === 'destroy') held.shift()?.destroy();
            else if (op === 'abort') pending.shift()?.controller.abort();
            else await sleep(1);
            const s = pool.stats();
            expect(s.total).toBeLessThanOrEqual(max);
            expect(s.total).toBe(s.idle + s.active);
          }
          await Promise.all(pending.map((p) => p.promise));
          for (const lease of held.splice(0)) lease.release();
          const s = pool.stats();
          expect(s.active).toBe(0);
          expect(s.waiting).toBe(0);
          expect(s.total).toBe(live.size);
          await pool.close();
          expect(live.size).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });
});
