import { isNoaError } from '@noa/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Guard } from '../src/internal/guard.js';
import { ReadBatcher } from '../src/internal/read-batcher.js';

const never = () => new Promise<never>(() => {});

describe('Guard (deadlines and breaker around remote calls)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Starts a call that never answers and records when it failed (fake ms since the test began). */
  function track(guard: Guard, started: number, deadline?: number) {
    const outcome: { failedAt?: number; code?: string } = {};
    guard
      .run('GET', never, undefined, deadline)
      .catch((error) => Object.assign(outcome, { failedAt: Date.now() - started, code: error.code }));
    return outcome;
  }

  it('fails each call at its own deadline, not at the next check of a shared timer', async () => {
    const guard = new Guard({ name: 'test', timeoutMs: 100, breaker: { failureThreshold: 100 } });
    const started = Date.now();
    const first = track(guard, started);
    await vi.advanceTimersByTimeAsync(30);
    const second = track(guard, started);
    await vi.advanceTimersByTimeAsync(69);
    expect(first.failedAt).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(first).toEqual({ failedAt: 100, code: 'NOA_CACHE_TIER_TIMEOUT' });
    expect(second.failedAt).toBeUndefined();
    await vi.advanceTimersByTimeAsync(30);
    expect(second).toEqual({ failedAt: 130, code: 'NOA_CACHE_TIER_TIMEOUT' });
  });

  it('honours an earlier deadline for one call, and fails at once when it has passed', async () => {
    const guard = new Guard({ name: 'test', timeoutMs: 100, breaker: { failureThreshold: 100 } });
    const started = Date.now();
    const early = track(guard, started, started + 40);
    const late = track(guard, started);
    await vi.advanceTimersByTimeAsync(40);
    expect(early.failedAt).toBe(40);
    expect(late.failedAt).toBeUndefined();
    await vi.advanceTimersByTimeAsync(60);
    expect(late.failedAt).toBe(100);
    const expired = guard.run('GET', never, undefined, Date.now() - 1);
    await expect(expired).rejects.toMatchObject({ code: 'NOA_CACHE_TIER_TIMEOUT' });
  });

  it('answers calls that finish in time, and opens the breaker after repeated timeouts', async () => {
    const guard = new Guard({ name: 'test', timeoutMs: 50 });
    await expect(guard.run('GET', async () => 'value')).resolves.toBe('value');
    for (let i = 0; i < 3; i++) {
      const call = guard.run('GET', never);
      const settled = expect(call).rejects.toMatchObject({ code: 'NOA_CACHE_TIER_TIMEOUT' });
      await vi.advanceTimersByTimeAsync(50);
      await settled;
    }
    expect(guard.breaker.state).toBe('open');
    const rejected = await guard.run('GET', async () => 'value').catch((error) => error);
    expect(isNoaError(rejected) && rejected.code).toBe('NOA_CIRCUIT_OPEN');
  });
});

describe('ReadBatcher', () => {
  it('sends the reads of one tick as one request and answers each caller', async () => {
    const requests: string[][] = [];
    const batcher = new ReadBatcher<string | null, string>(
      async (keys) => {
        requests.push(keys);
        return keys.map((key) => (key === 'missing' ? null : `value of ${key}`));
      },
      (raw) => raw ?? 'nothing',
    );
    const answers = await Promise.all(['a', 'b', 'missing'].map((key) => batcher.load(key)));
    expect(answers).toEqual(['value of a', 'value of b', 'nothing']);
    expect(requests).toEqual([['a', 'b', 'missing']]);
    expect(await batcher.load('c')).toBe('value of c');
    expect(requests).toHaveLength(2);
  });

  it('splits big batches, fails only the caller whose answer cannot be decoded, and every caller of a failed request', async () => {
    let failNext = false;
    const sizes: number[] = [];
    const batcher = new ReadBatcher<string, string>(
      async (keys) => {
        sizes.push(keys.length);
        if (failNext) throw new Error('connection lost');
        return keys;
      },
      (raw) => {
        if (raw === 'corrupt') throw new Error('cannot decode');
        return raw;
      },
      2,
    );
    const results = await Promise.allSettled(['a', 'corrupt', 'c'].map((key) => batcher.load(key)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(sizes).toEqual([2, 1]);
    failNext = true;
    const failed = await Promise.allSettled(['x', 'y'].map((key) => batcher.load(key)));
    expect(failed.every((r) => r.status === 'rejected')).toBe(true);
  });
});
