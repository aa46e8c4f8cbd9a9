/**
 * Redis stopped mid-test: a redis-server of our own on a free port (never the shared one), frozen
 * with SIGSTOP (connected but not answering) and killed, then restarted.
 */
import { spawn } from 'node:child_process';
import { RedisServerProcess, waitUntil } from '@noa/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter, memoryStore, type RateLimitDecision, type RateLimiter } from '../src/index.js';
import { RATE_LIMIT_SCRIPTS, redisStore } from '../src/redis.js';

const FIXED_WINDOW_SHA = RATE_LIMIT_SCRIPTS['fixed-window'].sha;

const hasRedisServer = await new Promise<boolean>((resolve) => {
  const probe = spawn('redis-server', ['--version']);
  probe.once('error', () => resolve(false));
  probe.once('exit', (code) => resolve(code === 0));
});

const TIMEOUT_MS = 200;
/** How long any call may take before we call it a hang: the store timeout plus generous slack. */
const HANG_MS = 5_000;

async function settlesInTime(call: Promise<RateLimitDecision>): Promise<RateLimitDecision> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`limiter call still pending after ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return await Promise.race([call, hang]);
  } finally {
    clearTimeout(timer);
  }
}

describe.skipIf(!hasRedisServer)('redis store when Redis stops (own redis-server)', () => {
  let server: RedisServerProcess;
  let client: Redis;
  let open: RateLimiter;
  let closed: RateLimiter;
  let fallback: RateLimiter;

  beforeAll(async () => {
    server = await RedisServerProcess.start();
    client = new Redis({ port: server.port, host: '127.0.0.1', retryStrategy: () => 100 });
    client.on('error', () => {}); // reconnect errors are expected here
    const options = {
      algorithm: 'fixed-window' as const,
      limit: 3,
      windowMs: 3_600_000,
      store: redisStore({ client, prefix: 'outage' }),
      storeTimeoutMs: TIMEOUT_MS,
      circuitBreaker: { failureThreshold: 2, halfOpenAfterMs: 300 },
    };
    open = createRateLimiter({ ...options, name: 'open', onStoreError: 'fail-open' });
    closed = createRateLimiter({ ...options, name: 'closed', onStoreError: 'fail-closed' });
    fallback = createRateLimiter({ ...options, name: 'fallback', onStoreError: { fallback: memoryStore() } });
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  /** Every limiter answers within the bound and as its onStoreError says; never `limited` by mistake. */
  async function expectDegraded(key: string) {
    const store = await Promise.all([1, 2, 3, 4, 5].map(() => settlesInTime(open.consume(key))));
    expect(store.every((d) => d.allowed && d.reason === 'store-unavailable' && d.decidedBy === 'none')).toBe(
      true,
    );
    const denied = await Promise.all([1, 2, 3].map(() => settlesInTime(closed.consume(key))));
    expect(denied.every((d) => !d.allowed && d.reason === 'store-unavailable')).toBe(true);
    const viaFallback = [];
    for (let i = 0; i < 4; i++) viaFallback.push(await settlesInTime(fallback.consume(key)));
    expect(viaFallback.map((d) => [d.allowed, d.reason, d.decidedBy])).toEqual([
      [true, 'allowed', 'fallback'],
      [true, 'allowed', 'fallback'],
      [true, 'allowed', 'fallback'],
      [false, 'limited', 'fallback'],
    ]);
  }

  async function expectBackOnRedis(key: string) {
    for (const limiter of [open, closed, fallback]) {
      await waitUntil(async () => (await limiter.consume(key)).decidedBy === 'store', {
        timeoutMs: 15_000,
        message: 'limiter back on Redis',
      });
    }
  }

  it('works normally, and re-sends the script after SCRIPT FLUSH (NOSCRIPT fallback)', async () => {
    expect(await open.consume('warm')).toMatchObject({ allowed: true, decidedBy: 'store' });
    await client.script('FLUSH');
    expect(await client.script('EXISTS', FIXED_WINDOW_SHA)).toEqual([0]);
    expect(await open.consume('warm')).toMatchObject({ allowed: true, remaining: 1, decidedBy: 'store' });
    expect(await client.script('EXISTS', FIXED_WINDOW_SHA)).toEqual([1]);
  });

  it('Redis frozen (SIGSTOP): no call hangs, each onStoreError mode holds, and it returns to Redis', async () => {
    server.pause();
    try {
      await expectDegraded('frozen');
    } finally {
      server.resume();
    }
    await expectBackOnRedis('frozen-after');
  });

  it('Redis killed and restarted: no call hangs, modes hold, and the limiter returns to Redis', async () => {
    const downs: unknown[] = [];
    let ups = 0;
    open.on('store-down', (error) => downs.push(error));
    open.on('store-up', () => ups++);
    await server.kill();
    await expectDegraded('killed');
    expect(downs.length).toBeGreaterThanOrEqual(1);
    await server.restart();
    await expectBackOnRedis('killed-after');
    expect(ups).toBeGreaterThanOrEqual(1);
    // Fresh server, fresh script cache: the NOSCRIPT path ran, and limits are enforced on Redis again.
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await closed.consume('after-restart'));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
    expect(decisions[3]).toMatchObject({ reason: 'limited', decidedBy: 'store' });
  });
});
