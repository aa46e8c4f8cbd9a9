/**
 * The suite every RateLimitStore passes (memory and Redis). It talks to stores through
 * createRateLimiter, with real time: windows are long (an hour) where refill must not matter and
 * short where recovery is the point, and waits are generous.
 */
import { uniqueName, waitUntil } from '@noa/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Algorithm,
  createRateLimiter,
  type RateLimiterOptions,
  type RateLimitStore,
} from '../src/index.js';

export const ALGORITHMS: Algorithm[] = [
  'token-bucket',
  'leaky-bucket',
  'fixed-window',
  'sliding-window',
  'gcra',
];
const HOUR = 3_600_000;

export function storeContract(
  label: string,
  makeStore: () => RateLimitStore | Promise<RateLimitStore>,
): void {
  describe(`RateLimitStore contract: ${label}`, () => {
    const stores: RateLimitStore[] = [];
    const limiter = async (options: Partial<RateLimiterOptions> & { algorithm: Algorithm }) => {
      const store = await makeStore();
      stores.push(store);
      return createRateLimiter({ limit: 5, windowMs: HOUR, name: uniqueName(label), store, ...options });
    };
    afterAll(async () => {
      for (const store of stores) await store.close();
    });

    describe.each(ALGORITHMS)('%s', (algorithm) => {
      it('admits exactly the limit, then denies with a retry time', async () => {
        const rl = await limiter({ algorithm });
        const decisions = [];
        for (let i = 0; i < 7; i++) decisions.push(await rl.consume('k'));
        expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false]);
        expect(decisions.slice(0, 5).map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0]);
        const denied = decisions[5]!;
        expect(denied).toMatchObject({ limit: 5, remaining: 0, reason: 'limited', decidedBy: 'store' });
        expect(denied.retryAfterMs).toBeGreaterThan(0);
        expect(denied.retryAfterMs).toBeLessThanOrEqual(HOUR);
        expect(denied.resetMs).toBeGreaterThan(0);
        expect(denied.resetMs).toBeLessThanOrEqual(HOUR);
        expect(decisions[0]!.retryAfterMs).toBe(0);
      });

      it('keeps keys apart', async () => {
        const rl = await limiter({ algorithm, limit: 1 });
        expect((await rl.consume('a')).allowed).toBe(true);
        expect((await rl.consume('a')).allowed).toBe(false);
        expect((await rl.consume('b')).allowed).toBe(true);
      });

      it('spends the cost, and denies a cost that does not fit without spending it', async () => {
        const rl = await limiter({ algorithm });
        expect(await rl.consume('k', { cost: 3 })).toMatchObject({ allowed: true, remaining: 2 });
        expect(await rl.consume('k', { cost: 3 })).toMatchObject({ allowed: false, remaining: 2 });
        expect(await rl.consume('k', { cost: 2 })).toMatchObject({ allowed: true, remaining: 0 });
      });

      it('peek reads without spending', async () => {
        const rl = await limiter({ algorithm });
        expect(await rl.peek('k')).toMatchObject({ allowed: true, remaining: 5 });
        await rl.consume('k', { cost: 2 });
        expect(await rl.peek('k')).toMatchObject({ allowed: true, remaining: 3 });
        expect(await rl.peek('k')).toMatchObject({ allowed: true, remaining: 3 });
        await rl.consume('k', { cost: 3 });
        expect(await rl.peek('k')).toMatchObject({ allowed: false, remaining: 0 });
      });

      it('penalty spends unconditionally, reward gives back up to the limit, reset forgets', async () => {
        const rl = await limiter({ algorithm });
        expect(await rl.penalty('k', 4)).toMatchObject({ allowed: true, remaining: 1 });
        expect(await rl.penalty('k', 3)).toMatchObject({ remaining: 0 });
        expect((await rl.consume('k')).allowed).toBe(false);
        expect(await rl.reward('k', 4)).toMatchObject({ remaining: 2 });
        expect(await rl.reward('k', 100)).toMatchObject({ remaining: 5 });
        await rl.consume('k', { cost: 5 });
        await rl.reset('k');
        expect(await rl.consume('k')).toMatchObject({ allowed: true, remaining: 4 });
      });

      it('block denies with reason blocked until reset', async () => {
        const rl = await limiter({ algorithm });
        await rl.block('k', HOUR);
        const d = await rl.consume('k');
        expect(d).toMatchObject({ allowed: false, reason: 'blocked', remaining: 0 });
        expect(d.retryAfterMs).toBeGreaterThan(HOUR - 60_000);
        await rl.reset('k');
        expect((await rl.consume('k')).allowed).toBe(true);
      });

      it('a block is shared through the store by limiters in other processes', async () => {
        const store = await makeStore();
        stores.push(store);
        const name = uniqueName('shared');
        const a = createRateLimiter({ algorithm, limit: 5, windowMs: HOUR, name, store });
        const b = createRateLimiter({ algorithm, limit: 5, windowMs: HOUR, name, store });
        await a.block('k', HOUR);
        expect(await b.consume('k')).toMatchObject({ allowed: false, reason: 'blocked', decidedBy: 'store' });
        // b now has it in its block cache: answered without the store.
        expect(await b.consume('k')).toMatchObject({ reason: 'blocked', decidedBy: 'block-cache' });
      });

      it('blockAfterViolations blocks a key that keeps exceeding its limit', async () => {
        const rl = await limiter({ algorithm, limit: 2, blockAfterViolations: 3, blockDurationMs: HOUR });
        const blocked: string[] = [];
        rl.on('blocked', (key) => blocked.push(key));
        const reasons = [];
        for (let i = 0; i < 7; i++) reasons.push((await rl.consume('k')).reason);
        expect(reasons).toEqual([
          'allowed',
          'allowed',
          'limited',
          'limited',
          'blocked',
          'blocked',
          'blocked',
        ]);
        expect(blocked).toEqual(['k']);
        expect((await rl.consume('other')).allowed).toBe(true);
      });

      it('recovers with time, and retryAfterMs is long enough', async () => {
        const rl = await limiter({ algorithm, limit: 2, windowMs: 300 });
        await rl.consume('k');
        await rl.consume('k');
        const denied = await rl.consume('k');
        expect(denied.allowed).toBe(false);
        expect(denied.retryAfterMs).toBeLessThanOrEqual(300);
        await new Promise((r) => setTimeout(r, denied.retryAfterMs + 15));
        expect((await rl.consume('k')).allowed).toBe(true);
        await waitUntil(async () => (await rl.peek('k')).remaining === 2, { timeoutMs: 5_000 });
      });
    });
  });
}
