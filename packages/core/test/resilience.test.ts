import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, createSingleFlight, isNoaError, retry, withTimeout } from '../src/index.js';

describe('retry', () => {
  it('retries until success and reports each retry', async () => {
    let calls = 0;
    const retries: number[] = [];
    const value = await retry(
      (attempt) => {
        calls++;
        if (attempt < 3) throw new Error(`fail ${attempt}`);
        return 'done';
      },
      { attempts: 5, backoff: { delayMs: 1 }, onRetry: ({ attempt }) => retries.push(attempt) },
    );
    expect(value).toBe('done');
    expect(calls).toBe(3);
    expect(retries).toEqual([1, 2]);
  });

  it('rethrows the last error unchanged when attempts run out', async () => {
    let calls = 0;
    const error = await retry(() => Promise.reject(new TypeError(`nope ${++calls}`)), {
      attempts: 3,
      backoff: { delayMs: 0 },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('nope 3');
  });

  it('stops early when shouldRetry says no', async () => {
    let calls = 0;
    await expect(
      retry(
        () => {
          calls++;
          throw new Error('fatal');
        },
        { attempts: 5, shouldRetry: () => false },
      ),
    ).rejects.toThrow('fatal');
    expect(calls).toBe(1);
  });

  it('stops waiting when the signal aborts', async () => {
    const controller = new AbortController();
    const pending = retry(() => Promise.reject(new Error('x')), {
      attempts: 10,
      backoff: { delayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' },
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('shutdown')), 5);
    const error = await pending.catch((e) => e);
    expect(isNoaError(error, 'NOA_ABORTED')).toBe(true);
  });

  it('validates options', async () => {
    await expect(retry(() => 1, { attempts: 0 })).rejects.toThrow(/attempts/);
    await expect(retry(() => 1, { backoff: { delayMs: -5 } })).rejects.toThrow(/delayMs/);
  });
});

describe('backoffDelay', () => {
  it('stays within [0, min(max, base * factor^(n-1))] with full jitter', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 5_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (n, base, r) => {
          const delay = backoffDelay({ delayMs: base, maxDelayMs: 60_000 }, n, undefined, () => r);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(Math.min(60_000, base * 2 ** (n - 1)));
        },
      ),
    );
  });

  it('grows exponentially without jitter and is capped', () => {
    const opts = { delayMs: 100, maxDelayMs: 1_000, jitter: 'none' as const };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(opts, n))).toEqual([100, 200, 400, 800, 1_000]);
    expect(backoffDelay({ ...opts, type: 'linear' }, 3)).toBe(300);
    expect(backoffDelay({ ...opts, type: 'fixed' }, 7)).toBe(100);
  });

  it('decorrelated jitter stays between base and 3x the previous delay, capped', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (prev, r) => {
          const delay = backoffDelay(
            { delayMs: 100, maxDelayMs: 20_000, jitter: 'decorrelated' },
            2,
            prev,
            () => r,
          );
          expect(delay).toBeGreaterThanOrEqual(Math.min(100, 20_000));
          expect(delay).toBeLessThanOrEqual(Math.min(20_000, Math.max(100, prev * 3)));
        },
      ),
    );
  });
});

describe('withTimeout', () => {
  it('resolves with the value when in time', async () => {
    await expect(withTimeout(Promise.resolve(7), 100)).resolves.toBe(7);
  });

  it('rejects with NOA_TIMEOUT when too slow', async () => {
    const error = await withTimeout(new Promise(() => {}), 10).catch((e) => e);
    expect(isNoaError(error, 'NOA_TIMEOUT')).toBe(true);
  });

  it('passes the original rejection through', async () => {
    await expect(withTimeout(Promise.reject(new Error('orig')), 100)).rejects.toThrow('orig');
  });

  it('rejects with NOA_ABORTED when the signal aborts first', async () => {
    const controller = new AbortController();
    const pending = withTimeout(new Promise(() => {}), 10_000, controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'NOA_ABORTED' });
    await expect(withTimeout(Promise.resolve(1), 10, controller.signal)).rejects.toMatchObject({
      code: 'NOA_ABORTED',
    });
  });
});

describe('createSingleFlight', () => {
  it('runs one execution for concurrent calls of one key and shares the result', async () => {
    const flight = createSingleFlight();
    let runs = 0;
    let release!: (v: string) => void;
    const fn = () => {
      runs++;
      return new Promise<string>((r) => (release = r));
    };
    const calls = Array.from({ length: 50 }, () => flight.do('k', fn));
    expect(flight.has('k')).toBe(true);
    expect(flight.size).toBe(1);
    release('v');
    expect(await Promise.all(calls)).toEqual(Array(50).fill('v'));
    expect(runs).toBe(1);
    expect(flight.has('k')).toBe(false);
  });

  it('shares errors and frees the key afterwards', async () => {
    const flight = createSingleFlight();
    let runs = 0;
    const failing = () => {
      runs++;
      return Promise.reject(new Error('load failed'));
    };
    const results = await Promise.allSettled([flight.do('a', failing), flight.do('a', failing)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(runs).toBe(1);
    await expect(flight.do('a', () => 'fresh')).resolves.toBe('fresh');
  });

  it('keeps keys independent', async () => {
    const flight = createSingleFlight();
    const seen: string[] = [];
    await Promise.all(['a', 'b', 'a'].map((k) => flight.do(k, async () => seen.push(k))));
    expect(seen.sort()).toEqual(['a', 'b']);
  });
});
