import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSimulatedClock } from '../src/clock.js';
import { jsonItemBytes, packBatches } from '../src/internal/batch.js';
import { parseRetryAfter, withRetries } from '../src/internal/http.js';
import { RateLimiter } from '../src/internal/rate-limiter.js';

describe('packBatches (property)', () => {
  it('keeps every item in order, never exceeds the item or byte limit, and is within one batch of optimal', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 60 }), { maxLength: 400 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 200, max: 2_000 }),
        (items, maxItems, maxBytes) => {
          const overheadBytes = 14;
          const { batches, tooLarge } = packBatches(items, {
            maxItems,
            maxBytes,
            overheadBytes,
            itemBytes: jsonItemBytes,
          });
          expect(tooLarge).toEqual([]);
          expect(batches.flat()).toEqual(items);
          for (const batch of batches) {
            expect(batch.length).toBeLessThanOrEqual(maxItems);
            expect(Buffer.byteLength(JSON.stringify({ objects: batch }))).toBeLessThanOrEqual(maxBytes);
          }
          const bytes = items.reduce((n, i) => n + jsonItemBytes(i), 0);
          const lowerBound = Math.max(
            Math.ceil(items.length / maxItems),
            Math.ceil(bytes / (maxBytes - overheadBytes)),
          );
          // Next-fit can waste at most one item's worth per batch; with items this small that is bounded.
          expect(batches.length).toBeLessThanOrEqual(2 * lowerBound + 1);
        },
      ),
    );
  });

  it('reports items larger than a whole body instead of sending them', () => {
    const { batches, tooLarge } = packBatches(['a', 'x'.repeat(100)], {
      maxBytes: 50,
      overheadBytes: 14,
      itemBytes: jsonItemBytes,
    });
    expect(batches).toEqual([['a']]);
    expect(tooLarge).toHaveLength(1);
  });
});

describe('RateLimiter (property, simulated clock)', () => {
  it('never lets more than capacity + rate * elapsed tokens through, for any sequence of costs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 60 }),
        async (capacity, rate, costs) => {
          const clock = createSimulatedClock();
          const limiter = new RateLimiter({ b: { capacity, refillPerSecond: rate } }, clock);
          let taken = 0;
          for (const cost of costs.map((c) => Math.min(c, capacity))) {
            await limiter.acquire({ b: cost });
            taken += cost;
            expect(taken).toBeLessThanOrEqual(capacity + (rate * clock.now()) / 1000 + 1e-6);
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('waits for both buckets together and honours pause()', async () => {
    const clock = createSimulatedClock();
    const limiter = new RateLimiter(
      { req: { capacity: 2, refillPerSecond: 1 }, obj: { capacity: 100, refillPerSecond: 10 } },
      clock,
    );
    await limiter.acquire({ req: 1, obj: 100 });
    await limiter.acquire({ req: 1, obj: 50 }); // obj refills at 10/s: 5 s
    expect(clock.now()).toBe(5_000);
    limiter.pause(3_000);
    await limiter.acquire({ req: 1 });
    expect(clock.now()).toBe(8_000);
    expect(() => limiter.acquire({ req: 3 })).toThrow(/never fit/);
  });
});

describe('retries', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('7', 0)).toBe(7_000);
    expect(
      parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')),
    ).toBe(5_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });

  it('stops at the attempt limit and rethrows the last error', async () => {
    const clock = createSimulatedClock();
    let calls = 0;
    const error = await withRetries(
      async () => {
        calls++;
        throw new TypeError('fetch failed');
      },
      { attempts: 3, backoff: { delayMs: 100, jitter: 'none' } },
      { clock },
    ).catch((e) => e);
    expect(calls).toBe(3);
    expect(error).toBeInstanceOf(TypeError);
    expect(clock.now()).toBe(100 + 200);
  });
});
