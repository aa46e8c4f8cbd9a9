import { isNoaError } from '@noa/core';
import { describe, expect, it } from 'vitest';
import { rateLimit } from '../src/express.js';
import { createRateLimiter, memoryStore, type RateLimitStore } from '../src/index.js';
import { redisStore } from '../src/redis.js';

const HOUR = 3_600_000;

/** A store that forwards to memory and counts calls (so the limiter takes its asynchronous path). */
function counting(inner = memoryStore()) {
  const calls = { n: 0 };
  const store: RateLimitStore = {
    name: 'counting',
    apply: (...args) => {
      calls.n++;
      return inner.apply(...args);
    },
    close: () => inner.close(),
    [Symbol.asyncDispose]: () => inner.close(),
  };
  return { store, calls };
}

/** A store that never answers (fake: a hung connection). */
const hanging: RateLimitStore = {
  name: 'hanging',
  apply: () => new Promise(() => {}),
  close: async () => {},
  [Symbol.asyncDispose]: async () => {},
};

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isNoaError(error) ? error.code : 'not a NoaError';
  }
  return undefined;
}

describe('bad input', () => {
  it.each([
    [{ limit: 0, windowMs: 1000 }, /limit must be an integer >= 1/],
    [{ limit: 1.5, windowMs: 1000 }, /limit must be an integer/],
    [{ limit: 5, windowMs: -1 }, /windowMs must be an integer/],
    [{ limit: 5, windowMs: 1000, algorithm: 'magic' }, /algorithm must be one of token-bucket/],
    [{ limit: 5, windowMs: 1000, algorithm: 'fixed-window', burst: 10 }, /burst applies to token-bucket/],
    [{ limit: 5, windowMs: 1000, algorithm: 'gcra', burst: 0 }, /burst must be an integer >= 1/],
    [{ limit: 5, windowMs: 1000, blockAfterViolations: -1 }, /blockAfterViolations/],
    [{ limit: 5, windowMs: 1000, onStoreError: 'ignore' }, /onStoreError must be/],
    [{ limit: 5, windowMs: 1000, store: {} }, /store must be a RateLimitStore/],
    [{ limit: 5, windowMs: 1000, storeTimeoutMs: 0 }, /storeTimeoutMs/],
  ])('createRateLimiter(%o) throws NOA_INVALID_OPTION', (options, message) => {
    expect(() => createRateLimiter(options as never)).toThrow(message);
    expect(code(() => createRateLimiter(options as never))).toBe('NOA_INVALID_OPTION');
  });

  it('rejects empty keys, negative or oversized costs and bad points with stable codes', async () => {
    const limiter = createRateLimiter({ limit: 5, windowMs: 1000 });
    const rejects = (call: Promise<unknown>, code: string) => expect(call).rejects.toMatchObject({ code });
    await rejects(limiter.consume(''), 'NOA_RATE_LIMIT_INVALID_KEY');
    await rejects(limiter.consume(42 as never), 'NOA_RATE_LIMIT_INVALID_KEY');
    await rejects(limiter.peek('x'.repeat(2000)), 'NOA_RATE_LIMIT_INVALID_KEY');
    await rejects(limiter.consume('k', { cost: -1 }), 'NOA_RATE_LIMIT_INVALID_COST');
    await rejects(limiter.consume('k', { cost: 6 }), 'NOA_RATE_LIMIT_INVALID_COST');
    await rejects(limiter.consume('k', { cost: 0.5 }), 'NOA_RATE_LIMIT_INVALID_COST');
    await rejects(limiter.penalty('k', 0), 'NOA_RATE_LIMIT_INVALID_COST');
    await rejects(limiter.reward('k', Number.NaN), 'NOA_RATE_LIMIT_INVALID_COST');
    await expect(limiter.block('k', -5)).rejects.toThrow(/durationMs must be a number > 0/);
    await expect(limiter.consume('k', { cost: -1 })).rejects.toThrow(/cost must be an integer from 0 to 5/);
    expect(await limiter.consume('k', { cost: 0 })).toMatchObject({ allowed: true, remaining: 5 });
  });

  it('rejects bad middleware options and clients', () => {
    expect(() => rateLimit({ limit: 5, windowMs: 1000, deny: ['10.0.0.0/99'] })).toThrow(
      /deny: "10.0.0.0\/99"/,
    );
    expect(() => rateLimit({ limit: 5, windowMs: 1000, ipv6Prefix: 0 })).toThrow(/ipv6Prefix/);
    expect(code(() => rateLimit({ limit: 5, windowMs: 1000, allow: '10.0.0.0/8' as never }))).toBe(
      'NOA_INVALID_OPTION',
    );
    expect(() => rateLimit({ limit: 5, windowMs: 1000, allow: '10.0.0.0/8' as never })).toThrow(
      /allow: pass a list of addresses/,
    );
    expect(() => rateLimit({ windowMs: 1000, rules: [{ limit: 1, match: { method: 5 as never } }] })).toThrow(
      /match.method must be a string or a list of strings/,
    );
    expect(() => rateLimit({ windowMs: 1000, rules: [{ limit: 1, match: { role: [1] as never } }] })).toThrow(
      /match.role must be a string or a list of strings/,
    );
    expect(() => rateLimit({ limit: 5, windowMs: 1000, headers: 'draft-6' as never })).toThrow(
      /headers must be/,
    );
    expect(() => rateLimit({ rules: [{ limit: 5 }] })).toThrow(/windowMs must be an integer/);
    expect(() => rateLimit({ windowMs: 1000, rules: [{ name: 'a b', limit: 1 }] })).toThrow(/name must be/);
    expect(() =>
      rateLimit({
        windowMs: 1000,
        rules: [
          { name: 'a', limit: 1 },
          { name: 'a', limit: 2 },
        ],
      }),
    ).toThrow(/unique/);
    expect(() => rateLimit({ limit: 5, windowMs: 1000, by: 'planet' as never })).toThrow(/by must be/);
    expect(() => rateLimit({ limit: 5, windowMs: 1000, trustProxy: -1 })).toThrow(/trustProxy/);
    expect(() => redisStore({ client: {} as never })).toThrow(/pass an ioredis client/);
    expect(() => redisStore(undefined as never)).toThrow(/redisStore: pass an options object/);
    expect(() => redisStore({ client: { evalsha() {} } as never, coalesceWrites: 'yes' as never })).toThrow(
      /coalesceWrites must be true or false/,
    );
  });
});

describe('limiter behaviour', () => {
  it('answers blocked keys from the in-process cache without a store round trip', async () => {
    const { store, calls } = counting();
    const limiter = createRateLimiter({ limit: 2, windowMs: HOUR, store, blockAfterViolations: 1 });
    await limiter.consume('k');
    await limiter.consume('k');
    expect(await limiter.consume('k')).toMatchObject({ reason: 'blocked', decidedBy: 'store' });
    const before = calls.n;
    for (let i = 0; i < 100; i++) expect((await limiter.consume('k')).decidedBy).toBe('block-cache');
    expect(calls.n).toBe(before);
    await limiter.reset('k');
    expect((await limiter.consume('k')).allowed).toBe(true);
  });

  it('a hung store never hangs a call: the timeout decides, then the open circuit answers at once (fake hung store)', async () => {
    const errors: unknown[] = [];
    const downs: unknown[] = [];
    const limiter = createRateLimiter({
      limit: 5,
      windowMs: HOUR,
      store: hanging,
      storeTimeoutMs: 30,
      circuitBreaker: { failureThreshold: 2, halfOpenAfterMs: 60_000 },
    });
    limiter.on('store-error', (error) => errors.push(error));
    limiter.on('store-down', (error) => downs.push(error));
    const decisions = await Promise.all(Array.from({ length: 3 }, () => limiter.consume('k')));
    expect(decisions.every((d) => d.allowed && d.reason === 'store-unavailable')).toBe(true);
    expect(errors.every((e) => isNoaError(e, 'NOA_TIMEOUT'))).toBe(true);
    expect(downs).toHaveLength(1);
    const errorsBefore = errors.length;
    expect((await limiter.consume('k')).reason).toBe('store-unavailable');
    expect(errors).toHaveLength(errorsBefore); // answered by the open circuit, not another timeout
    await expect(limiter.penalty('k', 1)).rejects.toMatchObject({ code: 'NOA_RATE_LIMIT_STORE_UNAVAILABLE' });
    await expect(limiter.reset('k')).rejects.toMatchObject({ code: 'NOA_RATE_LIMIT_STORE_UNAVAILABLE' });
  });

  it('falls back to another store, which also receives blocks made during the outage (fake hung store)', async () => {
    const limiter = createRateLimiter({
      limit: 2,
      windowMs: HOUR,
      store: hanging,
      storeTimeoutMs: 20,
      onStoreError: { fallback: memoryStore() },
      blockCacheSize: 0,
    });
    const reasons = [];
    for (let i = 0; i < 3; i++) reasons.push((await limiter.consume('k')).reason);
    expect(reasons).toEqual(['allowed', 'allowed', 'limited']);
    await expect(limiter.block('other', HOUR)).rejects.toMatchObject({
      code: 'NOA_RATE_LIMIT_STORE_UNAVAILABLE',
    });
    expect(await limiter.consume('other')).toMatchObject({ reason: 'blocked', decidedBy: 'fallback' });
  });

  it('emits limited and counts decisions in metrics; close() closes the store it created', async () => {
    const { createMemoryMetrics } = await import('@noa/core');
    const metrics = createMemoryMetrics();
    const limiter = createRateLimiter({ limit: 1, windowMs: HOUR, metrics, name: 'api' });
    const limited: string[] = [];
    limiter.on('limited', (key) => limited.push(key));
    await limiter.consume('k');
    await limiter.consume('k');
    expect(limited).toEqual(['k']);
    expect(
      metrics.value('rate_limit_decisions_total', {
        limiter: 'api:',
        reason: 'limited',
        decided_by: 'store',
      }),
    ).toBe(1);
    await limiter[Symbol.asyncDispose]();
    expect((limiter.store as ReturnType<typeof memoryStore>).size).toBe(0);
  });
});
