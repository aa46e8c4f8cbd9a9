/**
 * The store guard on the limiter's asynchronous path: one deadline timer for all calls, and the
 * circuit breaker told about outcomes after the fact while it is closed.
 */
import { createCircuitBreaker, isNoaError } from '@noa/core';
import { describe, expect, it } from 'vitest';
import { createRateLimiter, memoryStore, type RateLimitStore, type StoreResult } from '../src/index.js';
import { type CallWatcher, DeadlineQueue } from '../src/internal/deadline-queue.js';
import { GuardedStore } from '../src/internal/guarded-store.js';

const never = () => new Promise<never>(() => {});
const RESULT: StoreResult = { allowed: true, remaining: 1, resetMs: 1, retryAfterMs: 0, blocked: false };
const POLICY = {
  algorithm: 'fixed-window',
  limit: 5,
  windowMs: 1000,
  burst: 5,
  blockAfterViolations: 0,
  blockDurationMs: 1000,
} as const;

function recorder(): CallWatcher & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    succeeded: () => log.push('ok'),
    failed: (error) => log.push(`failed ${(error as Error).message}`),
  };
}

describe('DeadlineQueue', () => {
  it('passes answers through and times out only the calls that do not answer', async () => {
    const watcher = recorder();
    const queue = new DeadlineQueue(40, watcher);
    const started = performance.now();
    const calls = [
      queue.bound(Promise.resolve(1), true),
      queue.bound(Promise.reject(new Error('boom')), true),
      queue.bound(never(), true),
      queue.bound(never()), // not watched
      queue.bound(new Promise((resolve) => setTimeout(resolve, 5, 'late but in time'))),
    ];
    const outcomes = await Promise.allSettled(calls);
    expect(performance.now() - started).toBeGreaterThanOrEqual(39);
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 1 });
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: { message: 'boom' } });
    for (const i of [2, 3]) {
      const outcome = outcomes[i] as PromiseRejectedResult;
      expect(isNoaError(outcome.reason, 'NOA_TIMEOUT')).toBe(true);
    }
    expect(outcomes[4]).toEqual({ status: 'fulfilled', value: 'late but in time' });
    expect(watcher.log).toEqual(['ok', 'failed boom', 'failed operation timed out after 40 ms']);
    expect(queue.open).toBe(0);
  });

  it('keeps each call to its own deadline, beyond its initial capacity and out of order', async () => {
    const queue = new DeadlineQueue(60);
    const early = Array.from({ length: 300 }, () => queue.bound(never()));
    await new Promise((resolve) => setTimeout(resolve, 30));
    // Started 30 ms later: these must not time out with the first batch.
    let settleLater!: (value: string) => void;
    const later = queue.bound(new Promise<string>((resolve) => (settleLater = resolve)));
    const answered = Array.from({ length: 500 }, (_, i) => queue.bound(Promise.resolve(i)));
    const hanging = queue.bound(never());
    expect(await Promise.all(answered)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(queue.open).toBe(302);
    const earlyOutcomes = await Promise.allSettled(early);
    expect(earlyOutcomes.every((o) => o.status === 'rejected' && isNoaError(o.reason, 'NOA_TIMEOUT'))).toBe(
      true,
    );
    settleLater('still in time');
    expect(await later).toBe('still in time');
    await expect(hanging).rejects.toMatchObject({ code: 'NOA_TIMEOUT' });
    expect(queue.open).toBe(0);
  });
});

describe('GuardedStore (fake failing store)', () => {
  /** A store answering from a script of outcomes: true = answer, false = fail. */
  function scripted(outcomes: boolean[]) {
    const calls = { n: 0 };
    const store: RateLimitStore = {
      name: 'scripted',
      apply: () => {
        const ok = outcomes[calls.n++] ?? true;
        return ok ? Promise.resolve(RESULT) : Promise.reject(new Error('store down'));
      },
      close: async () => {},
      [Symbol.asyncDispose]: async () => {},
    };
    return { store, calls };
  }

  async function run(guarded: GuardedStore, times: number): Promise<string[]> {
    const results: string[] = [];
    for (let i = 0; i < times; i++) {
      results.push(
        await guarded.apply('k', POLICY, 'consume', 1).then(
          () => 'ok',
          (error: unknown) => (isNoaError(error, 'NOA_CIRCUIT_OPEN') ? 'open' : 'failed'),
        ),
      );
    }
    return results;
  }

  it('opens the circuit after consecutive failures only, and a success resets the count', async () => {
    const { store, calls } = scripted([false, false, true, false, false, false]);
    const breaker = createCircuitBreaker({ failureThreshold: 3, halfOpenAfterMs: 60_000 });
    const guarded = new GuardedStore(store, breaker, 1_000);
    expect(await run(guarded, 5)).toEqual(['failed', 'failed', 'ok', 'failed', 'failed']);
    expect(breaker.state).toBe('closed');
    expect(await run(guarded, 3)).toEqual(['failed', 'open', 'open']);
    expect(breaker.state).toBe('open');
    expect(calls.n).toBe(6); // an open circuit never calls the store
  });

  it('returns to the store through a half-open trial, then takes the direct path again', async () => {
    const { store, calls } = scripted([false, false]);
    const breaker = createCircuitBreaker({ failureThreshold: 2, halfOpenAfterMs: 30 });
    const guarded = new GuardedStore(store, breaker, 1_000);
    expect(await run(guarded, 3)).toEqual(['failed', 'failed', 'open']);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await run(guarded, 3)).toEqual(['ok', 'ok', 'ok']);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().consecutiveFailures).toBe(0);
    expect(calls.n).toBe(5);
  });

  it('counts a timeout as a failure', async () => {
    const breaker = createCircuitBreaker({ failureThreshold: 2, halfOpenAfterMs: 60_000 });
    const hung: RateLimitStore = { ...scripted([]).store, apply: never };
    const guarded = new GuardedStore(hung, breaker, 20);
    const outcomes = await Promise.allSettled([
      guarded.apply('a', POLICY, 'consume', 1),
      guarded.apply('b', POLICY, 'consume', 1),
    ]);
    expect(outcomes.every((o) => o.status === 'rejected' && isNoaError(o.reason, 'NOA_TIMEOUT'))).toBe(true);
    await Promise.resolve();
    expect(breaker.state).toBe('open');
  });
});

describe('memory store fast path', () => {
  it('a listener that decides again while a decision is being made does not change that decision', async () => {
    const limiter = createRateLimiter({
      algorithm: 'fixed-window',
      limit: 1,
      windowMs: 60_000,
      blockAfterViolations: 1,
      blockDurationMs: 30_000,
      store: memoryStore(),
    });
    const inner: Promise<unknown>[] = [];
    limiter.on('blocked', () => {
      inner.push(limiter.consume('other'));
    });
    await limiter.consume('k');
    const blocked = await limiter.consume('k');
    expect(blocked).toMatchObject({ reason: 'blocked', retryAfterMs: 30_000, resetMs: 30_000 });
    expect(await inner[0]).toMatchObject({ allowed: true, remaining: 0 });
  });
});
