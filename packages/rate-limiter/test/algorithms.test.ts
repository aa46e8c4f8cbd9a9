/**
 * The algorithms on the memory store with a fake clock: exact arithmetic, and properties over
 * random request sequences (never more than allowed in any interval; a patient client always gets in).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Algorithm, createRateLimiter, memoryStore } from '../src/index.js';
import { ALGORITHMS } from './contract.js';

function clocked(algorithm: Algorithm, limit: number, windowMs: number, burst?: number) {
  let now = 1_000_000;
  const store = memoryStore({ now: () => now });
  const limiter = createRateLimiter({ algorithm, limit, windowMs, burst, store });
  return {
    limiter,
    store,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

const bucketLike: Algorithm[] = ['token-bucket', 'leaky-bucket', 'gcra'];

describe('algorithm arithmetic (fake clock)', () => {
  it.each(bucketLike)('%s refills at limit/windowMs and allows the burst', async (algorithm) => {
    const { limiter, advance } = clocked(algorithm, 10, 1_000, 5);
    for (let i = 0; i < 5; i++) expect((await limiter.consume('k')).allowed).toBe(true);
    const denied = await limiter.consume('k');
    expect(denied).toMatchObject({ allowed: false, limit: 5, retryAfterMs: 100, resetMs: 500 });
    advance(99);
    expect((await limiter.consume('k')).allowed).toBe(false);
    advance(1);
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 0 });
    advance(250);
    expect((await limiter.peek('k')).remaining).toBe(2);
    advance(10_000);
    expect((await limiter.peek('k')).remaining).toBe(5);
  });

  it('fixed window resets at the end of the window that began with the first request', async () => {
    const { limiter, advance } = clocked('fixed-window', 3, 1_000);
    await limiter.consume('k');
    advance(400);
    await limiter.consume('k');
    await limiter.consume('k');
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 600, resetMs: 600 });
    advance(600);
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 2, resetMs: 1_000 });
  });

  it('sliding window frees each request exactly windowMs after it was admitted', async () => {
    const { limiter, advance } = clocked('sliding-window', 3, 1_000);
    await limiter.consume('k');
    advance(300);
    await limiter.consume('k', { cost: 2 });
    expect(await limiter.consume('k')).toMatchObject({ allowed: false, retryAfterMs: 700 });
    // A cost-2 request needs the cost-2 entry to leave as well.
    expect(await limiter.consume('k', { cost: 2 })).toMatchObject({ allowed: false, retryAfterMs: 1_000 });
    advance(700);
    expect(await limiter.consume('k')).toMatchObject({ allowed: true, remaining: 0, resetMs: 1_000 });
  });

  it('the memory store forgets keys once their state is back to fresh', async () => {
    const { limiter, store, advance } = clocked('gcra', 10, 1_000);
    for (let i = 0; i < 50; i++) await limiter.consume(`k${i}`);
    expect(store.size).toBe(50);
    advance(1_000);
    store.sweep();
    expect(store.size).toBe(0);
  });
});

/** A random client: gaps between requests (ms) and their costs. */
const traffic = fc.array(
  fc.record({ gap: fc.integer({ min: 0, max: 300 }), cost: fc.integer({ min: 1, max: 3 }) }),
  {
    minLength: 1,
    maxLength: 120,
  },
);

async function run(
  algorithm: Algorithm,
  limit: number,
  windowMs: number,
  steps: { gap: number; cost: number }[],
) {
  const { limiter, advance, now } = clocked(algorithm, limit, windowMs);
  const admitted: { at: number; cost: number }[] = [];
  for (const { gap, cost } of steps) {
    advance(gap);
    const d = await limiter.consume('k', { cost });
    if (d.allowed) admitted.push({ at: now(), cost });
    expect(d.remaining).toBeGreaterThanOrEqual(0);
    expect(d.remaining).toBeLessThanOrEqual(limit);
    expect(d.allowed ? d.retryAfterMs === 0 : d.retryAfterMs > 0).toBe(true);
  }
  return { admitted, limiter, advance };
}

/** The most cost admitted in any interval of `span` ms (both ends included when `closed`). */
function maxInSpan(admitted: { at: number; cost: number }[], span: number, closed: boolean) {
  let best = 0;
  for (let i = 0; i < admitted.length; i++) {
    let sum = 0;
    for (let j = i; j < admitted.length; j++) {
      const dt = admitted[j]!.at - admitted[i]!.at;
      if (closed ? dt > span : dt >= span) break;
      sum += admitted[j]!.cost;
    }
    best = Math.max(best, sum);
  }
  return best;
}

describe('algorithm properties over random traffic (fake clock)', () => {
  const limit = 6;
  const windowMs = 600;

  it('sliding window: no rolling window ever holds more than the limit', async () => {
    await fc.assert(
      fc.asyncProperty(traffic, async (steps) => {
        const { admitted } = await run('sliding-window', limit, windowMs, steps);
        expect(maxInSpan(admitted, windowMs, false)).toBeLessThanOrEqual(limit);
      }),
    );
  });

  it('fixed window: at most 2 × limit in a rolling window', async () => {
    await fc.assert(
      fc.asyncProperty(traffic, async (steps) => {
        const { admitted } = await run('fixed-window', limit, windowMs, steps);
        expect(maxInSpan(admitted, windowMs, false)).toBeLessThanOrEqual(2 * limit);
      }),
    );
  });

  it.each(bucketLike)('%s: any interval of t ms admits at most burst + rate × t', async (algorithm) => {
    await fc.assert(
      fc.asyncProperty(traffic, fc.integer({ min: 1, max: 2_000 }), async (steps, span) => {
        const { admitted } = await run(algorithm, limit, windowMs, steps);
        expect(maxInSpan(admitted, span, true)).toBeLessThanOrEqual(
          limit + Math.floor((span * limit) / windowMs) + 1e-9,
        );
      }),
    );
  });

  it('token bucket, leaky bucket and GCRA admit the same requests', async () => {
    await fc.assert(
      fc.asyncProperty(traffic, async (steps) => {
        const runs = await Promise.all(bucketLike.map((a) => run(a, limit, windowMs, steps)));
        const [first, ...rest] = runs.map((r) => r.admitted.map((x) => x.at));
        for (const other of rest) expect(other).toEqual(first);
      }),
    );
  });

  it.each(ALGORITHMS)('%s: a client that waits retryAfterMs gets in', async (algorithm) => {
    await fc.assert(
      fc.asyncProperty(traffic, async (steps) => {
        const { limiter, advance } = await run(algorithm, limit, windowMs, steps);
        const d = await limiter.consume('k');
        if (d.allowed) return;
        advance(d.retryAfterMs);
        expect((await limiter.consume('k')).allowed).toBe(true);
      }),
    );
  });
});
