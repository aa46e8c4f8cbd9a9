import { describe, expect, it } from 'vitest';
import { createCircuitBreaker, isNoaError } from '../src/index.js';

function clock(start = 1_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const fail = () => Promise.reject(new Error('boom'));
const ok = () => Promise.resolve('ok');

async function failTimes(breaker: ReturnType<typeof createCircuitBreaker>, n: number) {
  for (let i = 0; i < n; i++) await expect(breaker.execute(fail)).rejects.toThrow('boom');
}

describe('createCircuitBreaker', () => {
  it('opens after failureThreshold consecutive failures and then rejects without calling', async () => {
    const time = clock();
    const breaker = createCircuitBreaker({ failureThreshold: 3, halfOpenAfterMs: 1_000, now: time.now });
    const events: string[] = [];
    breaker.on('open', () => events.push('open')).on('reject', () => events.push('reject'));
    await failTimes(breaker, 2);
    expect(breaker.state).toBe('closed');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    let called = 0;
    const error = await breaker.execute(() => ++called).catch((e) => e);
    expect(called).toBe(0);
    expect(isNoaError(error, 'NOA_CIRCUIT_OPEN')).toBe(true);
    expect(error.retryAfterMs).toBe(1_000);
    expect(events).toEqual(['open', 'reject']);
    expect(breaker.stats()).toMatchObject({ failures: 3, rejections: 1, state: 'open' });
  });

  it('a success resets the consecutive failure count', async () => {
    const breaker = createCircuitBreaker({ failureThreshold: 2 });
    await failTimes(breaker, 1);
    await breaker.execute(ok);
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('closed');
  });

  it('half-opens after halfOpenAfterMs, closes on a successful trial, reopens on a failed one', async () => {
    const time = clock();
    const breaker = createCircuitBreaker({ failureThreshold: 1, halfOpenAfterMs: 500, now: time.now });
    const events: string[] = [];
    for (const e of ['open', 'half-open', 'close'] as const) breaker.on(e, () => events.push(e));
    await failTimes(breaker, 1);
    time.advance(499);
    expect(breaker.state).toBe('open');
    time.advance(1);
    expect(breaker.state).toBe('half-open');
    await failTimes(breaker, 1);
    expect(breaker.state).toBe('open');
    time.advance(500);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(events).toEqual(['open', 'half-open', 'open', 'half-open', 'close']);
  });

  it('lets only halfOpenMaxConcurrent trials through at once', async () => {
    const time = clock();
    const breaker = createCircuitBreaker({ failureThreshold: 1, halfOpenAfterMs: 10, now: time.now });
    await failTimes(breaker, 1);
    time.advance(10);
    let release!: () => void;
    const trial = breaker.execute(() => new Promise<void>((r) => (release = r)));
    await expect(breaker.execute(ok)).rejects.toMatchObject({ code: 'NOA_CIRCUIT_OPEN' });
    release();
    await trial;
    expect(breaker.state).toBe('closed');
  });

  it('needs successThreshold successful trials to close', async () => {
    const time = clock();
    const breaker = createCircuitBreaker({
      failureThreshold: 1,
      halfOpenAfterMs: 10,
      successThreshold: 2,
      now: time.now,
    });
    await failTimes(breaker, 1);
    time.advance(10);
    await breaker.execute(ok);
    expect(breaker.state).toBe('half-open');
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
  });

  it('ignores errors that isFailure rejects', async () => {
    const breaker = createCircuitBreaker({
      failureThreshold: 1,
      isFailure: (e) => (e as Error).message !== 'not found',
    });
    await expect(breaker.execute(() => Promise.reject(new Error('not found')))).rejects.toThrow('not found');
    expect(breaker.state).toBe('closed');
  });

  it('can be forced open and closed, and works with synchronous functions', async () => {
    const breaker = createCircuitBreaker();
    expect(await breaker.execute(() => 42)).toBe(42);
    breaker.open();
    expect(breaker.state).toBe('open');
    breaker.close();
    expect(await breaker.execute(() => 'sync')).toBe('sync');
    await expect(
      breaker.execute(() => {
        throw new Error('sync boom');
      }),
    ).rejects.toThrow('sync boom');
  });

  it('validates options', () => {
    expect(() => createCircuitBreaker({ failureThreshold: 0 })).toThrowError(/failureThreshold/);
    expect(() => createCircuitBreaker({ halfOpenAfterMs: -1 })).toThrowError(/halfOpenAfterMs/);
    expect(() => createCircuitBreaker({ successThreshold: 1.5 })).toThrowError(/successThreshold/);
  });
});
