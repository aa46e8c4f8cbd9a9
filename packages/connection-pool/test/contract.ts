import { isNoaError } from '@noa/core';
import { sleep, uniqueName, waitUntil } from '@noa/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool, type PoolDriver, type PoolOptions } from '../src/index.js';

/** What the contract suite needs to know about one backend. */
export interface ContractHarness<D extends PoolDriver<any>> {
  /** A driver with the primary only (no replicas). */
  driver(): D;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** Stores `value` under `key` (one statement). */
  write(pool: Pick<Pool<D>, 'query'>, key: string, value: number, prepare?: boolean): Promise<unknown>;
  /** The value under `key`, or null. */
  read(pool: Pool<D>, key: string, role: 'read' | 'write'): Promise<number | null>;
  /** Connections the server sees with this application / client name. */
  serverConnections(applicationName: string): Promise<number>;
  /** Kills one connection with this name on the server side; returns how many were killed (absent: the fault test is skipped). */
  killOne?(applicationName: string): Promise<number>;
}

/** The suite every driver passes, the memory driver included. */
export function poolContract<D extends PoolDriver<any>>(name: string, harness: ContractHarness<D>): void {
  describe(`pool contract: ${name}`, () => {
    const pools: Pool<D>[] = [];
    const open = (options: Partial<PoolOptions<D>> = {}) => {
      const applicationName = uniqueName('cp').slice(0, 40);
      const pool = createPool<D>({
        driver: harness.driver(),
        max: 4,
        healthCheckIntervalMs: 200,
        applicationName,
        ...options,
      });
      pools.push(pool);
      return { pool, applicationName };
    };

    beforeAll(() => harness.setup());
    afterAll(async () => {
      await Promise.all(pools.map((pool) => pool.close({ timeoutMs: 2_000 })));
      await harness.teardown();
    });

    it('writes, reads back, and reads fall back to the primary without replicas', async () => {
      const { pool } = open();
      await harness.write(pool, 'a', 1);
      expect(await harness.read(pool, 'a', 'write')).toBe(1);
      expect(await harness.read(pool, 'a', 'read')).toBe(1);
      expect(pool.stats().fallbacks).toBeGreaterThanOrEqual(1);
      expect(pool.stats().active).toBe(0);
    });

    it('commits a transaction, and rolls it back when the callback throws', async () => {
      const { pool } = open();
      await pool.transaction(async (tx) => {
        await harness.write(tx, 'tx-commit', 7);
      });
      expect(await harness.read(pool, 'tx-commit', 'write')).toBe(7);
      await expect(
        pool.transaction(async (tx) => {
          await harness.write(tx, 'tx-rollback', 8);
          throw new Error('abort the transfer');
        }),
      ).rejects.toThrow('abort the transfer');
      expect(await harness.read(pool, 'tx-rollback', 'write')).toBeNull();
      expect(pool.stats()).toMatchObject({ active: 0 });
    });

    it('runs the same statement prepared many times', async () => {
      const { pool } = open({ prepare: true } as Partial<PoolOptions<D>>);
      for (let i = 0; i < 5; i++) await harness.write(pool, `prepared-${i}`, i, true);
      for (let i = 0; i < 5; i++) expect(await harness.read(pool, `prepared-${i}`, 'write')).toBe(i);
    });

    it('never opens more than max, and its count equals the server view', async () => {
      const { pool, applicationName } = open();
      await Promise.all(Array.from({ length: 40 }, (_, i) => harness.write(pool, `concurrent-${i}`, i)));
      const stats = pool.stats();
      expect(stats.total).toBeLessThanOrEqual(4);
      expect(stats.active).toBe(0);
      expect(await harness.serverConnections(applicationName)).toBe(stats.total);
    });

    it('acquire() hands out a connection that must be released, and times out when all are busy', async () => {
      const { pool } = open({ max: 1, acquireTimeoutMs: 100 } as Partial<PoolOptions<D>>);
      // Opening the connection may take longer than 100 ms on a loaded machine: only the wait for a
      // busy one is under test, so the acquires that may connect get their own, longer timeout.
      const connection = await pool.acquire({ role: 'write', timeoutMs: 10_000 });
      const error = await pool.acquire().catch((e: unknown) => e);
      expect(isNoaError(error, 'NOA_POOL_ACQUIRE_TIMEOUT')).toBe(true);
      connection.release();
      expect(() => connection.release()).toThrowError(
        expect.objectContaining({ code: 'NOA_POOL_ALREADY_RELEASED' }),
      );
      (await pool.acquire({ timeoutMs: 10_000 })).release();
      expect(pool.stats()).toMatchObject({ timeouts: 1, active: 0 });
    });

    it('reports a connection held too long, with the stack that acquired it', async () => {
      const { pool } = open({ leakDetectionMs: 50 } as Partial<PoolOptions<D>>);
      const leaks: string[] = [];
      pool.on('leak', ({ stack }) => leaks.push(stack));
      async function handlerThatForgetsToRelease() {
        return pool.acquire();
      }
      const connection = await handlerThatForgetsToRelease();
      await waitUntil(() => leaks.length > 0, { timeoutMs: 5_000 });
      expect(leaks[0]).toContain('handlerThatForgetsToRelease');
      connection.release();
      expect(pool.stats().leaks).toBe(1);
    });

    it.skipIf(!harness.killOne)(
      'loses no acknowledged write and leaks no connection when the server kills connections mid-run',
      async () => {
        const { pool, applicationName } = open({ max: 4 } as Partial<PoolOptions<D>>);
        const acknowledged: string[] = [];
        let failed = 0;
        let next = 0;
        let running = true;
        const writer = async () => {
          while (running || next < 40) {
            const key = `fault-${next++}`;
            try {
              await harness.write(pool, key, 1);
              acknowledged.push(key);
            } catch {
              failed += 1;
            }
            if (next > 400) break;
          }
        };
        const writers = Array.from({ length: 6 }, writer);
        let killed = 0;
        for (let round = 0; round < 3; round++) {
          await sleep(30);
          killed += await harness.killOne!(applicationName);
        }
        running = false;
        await Promise.all(writers);
        expect(killed).toBeGreaterThan(0);
        expect(acknowledged.length + failed).toBe(next);
        // Every connection the pool counts exists on the server, and vice versa (a connection killed
        // while idle leaves the pool once its socket reports the close).
        await waitUntil(
          async () => (await harness.serverConnections(applicationName)) === pool.stats().total,
          {
            timeoutMs: 10_000,
            message: 'pool count equals the server view',
          },
        );
        expect(pool.stats().active).toBe(0);
        for (const key of acknowledged) expect(await harness.read(pool, key, 'write'), key).toBe(1);
        await harness.write(pool, 'after-fault', 1);
      },
    );

    it('close() waits for busy connections and closes every connection on the server', async () => {
      const { pool, applicationName } = open();
      const connection = await pool.acquire();
      const busy = sleep(100).then(() => connection.release());
      let closed = false;
      const closing = pool.close().then(() => {
        closed = true;
      });
      await sleep(20);
      expect(closed).toBe(false); // waits for the busy connection
      await busy;
      await closing;
      await waitUntil(async () => (await harness.serverConnections(applicationName)) === 0, {
        timeoutMs: 10_000,
      });
      await expect(harness.write(pool, 'closed', 1)).rejects.toMatchObject({ code: 'NOA_POOL_CLOSED' });
    });
  });
}
