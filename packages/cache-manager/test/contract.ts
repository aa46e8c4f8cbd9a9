import { createMemoryMetrics, jsonSerializer, noopLogger } from '@noa/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { CacheTier, StoredEntry, TierContext } from '../src/index.js';

export interface TierFixture {
  tier: CacheTier;
  /** Called after each test (close connections, drop keys). */
  cleanup?: () => Promise<void>;
}

export const testContext = (namespace: string): TierContext => ({
  namespace,
  serializer: jsonSerializer,
  logger: noopLogger,
  metrics: createMemoryMetrics(),
  onEvict: () => {},
  onError: () => {},
});

const entry = (value: unknown, ttlMs = 60_000, extra: Partial<StoredEntry> = {}): StoredEntry => ({
  value,
  freshUntil: Date.now() + ttlMs,
  staleUntil: Date.now() + ttlMs,
  deltaMs: 3,
  ...extra,
});

/** The suite every CacheTier that stores data passes: memory, Redis, Redis Cluster. */
export function tierContract(name: string, create: (namespace: string) => Promise<TierFixture>): void {
  describe(`CacheTier contract: ${name}`, () => {
    let fixture: TierFixture | undefined;
    let counter = 0;
    const open = async () => {
      fixture = await create(`contract_${process.pid}_${Date.now()}_${counter++}`);
      return fixture.tier;
    };
    afterEach(async () => {
      await fixture?.cleanup?.();
      await fixture?.tier.close?.();
      fixture = undefined;
    });

    it('round-trips a value with its metadata', async () => {
      const tier = await open();
      const stored = entry({ id: 1, name: 'Ada', nested: [1, 'two', null] }, 60_000, {
        staleUntil: Date.now() + 120_000,
        tags: ['user:1', 'team:7'],
        tagVersions: [3, 0],
      });
      await tier.set('user:1', stored);
      const read = await tier.get('user:1');
      expect(read).toEqual(stored);
      expect(await tier.get('user:2')).toBeUndefined();
    });

    it('keeps entries that never expire', async () => {
      const tier = await open();
      await tier.set('forever', { value: 'x', freshUntil: 0, staleUntil: 0, deltaMs: 0 });
      expect((await tier.get('forever'))?.value).toBe('x');
    });

    it('overwrites, deletes and clears', async () => {
      const tier = await open();
      await tier.set('a', entry(1));
      await tier.set('a', entry(2));
      await tier.set('b', entry(3));
      await tier.set('c', entry(4));
      expect((await tier.get('a'))?.value).toBe(2);
      await tier.delete(['a', 'b']);
      expect(await tier.get('a')).toBeUndefined();
      expect(await tier.get('b')).toBeUndefined();
      expect((await tier.get('c'))?.value).toBe(4);
      await tier.clear();
      expect(await tier.get('c')).toBeUndefined();
    });

    it('drops entries once their grace period is over', async () => {
      const tier = await open();
      // Half a second of grace: long enough that a loaded machine still reads it back in time.
      const staleUntil = Date.now() + 500;
      await tier.set('short', { value: 1, freshUntil: Date.now() + 20, staleUntil, deltaMs: 0 });
      expect((await tier.get('short'))?.value).toBe(1);
      await tier.set('past', {
        value: 1,
        freshUntil: Date.now() - 20,
        staleUntil: Date.now() - 10,
        deltaMs: 0,
      });
      expect(await tier.get('past')).toBeUndefined();
      // Redis counts a PX expiry from when the command arrives: allow for a late arrival.
      await new Promise((resolve) => setTimeout(resolve, staleUntil - Date.now() + 250));
      expect(await tier.get('short')).toBeUndefined();
    });

    it('keeps namespaces apart', async () => {
      const tier = await open();
      const other = await create(`${tier.name}_other_${process.pid}_${counter++}`);
      try {
        await tier.set('shared-key', entry('mine'));
        expect(await other.tier.get('shared-key')).toBeUndefined();
        await other.tier.clear();
        expect((await tier.get('shared-key'))?.value).toBe('mine');
      } finally {
        await other.cleanup?.();
        await other.tier.close?.();
      }
    });

    it('belongs to one cache only', async () => {
      const tier = await open();
      expect(() => tier.attach(testContext('again'))).toThrow(
        expect.objectContaining({ code: 'NOA_CACHE_TIER_IN_USE' }),
      );
    });
  });
}
