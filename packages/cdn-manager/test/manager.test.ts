import { createMemoryMetrics, isNoaError } from '@noa/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCdnManager, createSimulatedClock, memoryProvider } from '../src/index.js';
import { akamai } from '../src/providers/akamai.js';
import { fastly } from '../src/providers/fastly.js';
import { AKAMAI_CREDENTIALS, FASTLY_KEY, fakeAkamai, fakeFastly } from './fakes.js';

describe('createCdnManager: all mode', () => {
  it('fans out to every provider and reports each one', async () => {
    const a = memoryProvider({ name: 'a', itemsPerRequest: 2 });
    const b = memoryProvider({ name: 'b' });
    const metrics = createMemoryMetrics();
    const cdn = createCdnManager({ providers: [a, b], metrics });
    const seen: string[] = [];
    cdn.on('request', (r) => seen.push(`${r.provider}:${r.kind}:${r.items}`));
    const result = await cdn.purge({ urls: ['/1', '/2', '/3'], tags: ['t'], soft: true });
    expect(result.ok).toBe(true);
    expect(result.mode).toBe('all');
    expect(result.providers.map((p) => [p.provider, p.requests, p.purged.urls, p.purged.tags])).toEqual([
      ['a', 3, 3, 1],
      ['b', 2, 3, 1],
    ]);
    expect(seen).toContain('a:urls:2');
    expect(a.received.every((r) => r.soft)).toBe(true);
    expect(metrics.value('cdn_purge_items_total', { provider: 'a', kind: 'urls' })).toBe(3);
    expect(metrics.value('cdn_purge_requests_total', { provider: 'b' })).toBe(2);
    await cdn.close();
  });

  it('refuses a purge one provider cannot do before anything is sent, or skips it when told to', async () => {
    const fake = await fakeFastly({ serviceId: 's' });
    const mem = memoryProvider();
    const f = fastly({ serviceId: 's', apiKey: FASTLY_KEY, apiBaseUrl: fake.url });
    const strict = createCdnManager({ providers: [mem, f] });
    const error = await strict.purge({ prefixes: ['https://www.example.com/img/'] }).catch((e) => e);
    expect(isNoaError(error, 'NOA_CDN_UNSUPPORTED')).toBe(true);
    expect(error.message).toMatch(/fastly cannot purge by prefixes/);
    expect(mem.received).toHaveLength(0);
    expect(fake.requests).toHaveLength(0);

    const lenient = createCdnManager({ providers: [mem, f], onUnsupported: 'skip' });
    const result = await lenient.purge({ prefixes: ['https://www.example.com/img/'] });
    expect(result.ok).toBe(false);
    expect(result.providers[0]!.ok).toBe(true);
    expect(result.providers[1]!.skipped).toMatch(/prefixes/);
    await fake.close();
  });

  it('reports a failing provider without hiding the others', async () => {
    const cdn = createCdnManager({
      providers: [memoryProvider({ name: 'up' }), memoryProvider({ name: 'down', failing: true })],
    });
    const result = await cdn.purge({ tags: ['x'] });
    expect(result.ok).toBe(false);
    expect(result.providers[0]!.ok).toBe(true);
    expect(result.providers[1]!.failures[0]!.items).toEqual(['x']);
  });

  it('exposes capabilities and plans per provider', () => {
    const cdn = createCdnManager({
      providers: [memoryProvider(), akamai({ ...AKAMAI_CREDENTIALS, host: 'akab-x.luna.akamaiapis.net' })],
    });
    const caps = cdn.capabilities();
    expect(caps.akamai!.prefixes).toBe(false);
    expect(caps.akamai!.limits.maxBodyBytes).toBe(50_000);
    expect(caps.memory!.tags).toBe(true);
    const plans = cdn.plan({ tags: Array.from({ length: 6000 }, (_, i) => `t${i}`) });
    expect(plans.map((p) => p.requests.length)).toEqual([6, 2]);
  });

  it('validates its options and rejects purges after close()', async () => {
    expect(() => createCdnManager({ providers: [] })).toThrow(/at least one provider/);
    expect(() => createCdnManager({ providers: [memoryProvider(), memoryProvider()] })).toThrow(/unique/);
    expect(() => createCdnManager({ providers: [memoryProvider()], mode: 'some' as never })).toThrow(/mode/);
    const cdn = createCdnManager({ providers: [memoryProvider()] });
    await cdn[Symbol.asyncDispose]();
    expect(isNoaError(await cdn.purge({ tags: ['a'] }).catch((e) => e), 'NOA_CDN_CLOSED')).toBe(true);
  });

  it('close() lets an in-flight purge finish', async () => {
    const fake = await fakeAkamai();
    const clock = createSimulatedClock();
    const cdn = createCdnManager({ providers: [akamai({ ...AKAMAI_CREDENTIALS, host: fake.url, clock })] });
    const purge = cdn.purge({ urls: Array.from({ length: 2000 }, (_, i) => `https://e.com/${i}`) });
    await cdn.close();
    expect((await purge).ok).toBe(true);
    await fake.close();
  });
});

describe('createCdnManager: failover mode with circuit breakers', () => {
  it('uses the first healthy provider and skips the rest', async () => {
    const primary = memoryProvider({ name: 'primary' });
    const secondary = memoryProvider({ name: 'secondary' });
    const cdn = createCdnManager({ providers: [primary, secondary], mode: 'failover' });
    const result = await cdn.purge({ urls: ['/a'] });
    expect(result.servedBy).toBe('primary');
    expect(result.providers[1]!.skipped).toMatch(/not needed/);
    expect(secondary.received).toHaveLength(0);
  });

  it('fails over on errors, opens the circuit, skips the open provider, and closes it after the cool-down', async () => {
    const clock = createSimulatedClock();
    const primary = memoryProvider({ name: 'primary', failing: true });
    const secondary = memoryProvider({ name: 'secondary' });
    const cdn = createCdnManager({
      providers: [primary, secondary],
      mode: 'failover',
      clock,
      breaker: { failureThreshold: 2, halfOpenAfterMs: 60_000 },
    });
    const failovers: string[] = [];
    cdn.on('failover', (f) => failovers.push(f.from));
    for (let i = 0; i < 2; i++) expect((await cdn.purge({ tags: [`t${i}`] })).servedBy).toBe('secondary');
    expect(cdn.health().primary).toBe('open');
    const skipped = await cdn.purge({ tags: ['t2'] });
    expect(skipped.servedBy).toBe('secondary');
    expect(skipped.providers[0]!.skipped).toMatch(/circuit open/);
    expect(failovers).toEqual(['primary', 'primary', 'primary']);

    primary.setFailing(false);
    clock.advance(60_000);
    const recovered = await cdn.purge({ tags: ['t3'] });
    expect(recovered.servedBy).toBe('primary');
    expect(cdn.health().primary).toBe('closed');
    expect(secondary.received.map((r) => r.items[0])).toEqual(['t0', 't1', 't2']);
  });

  it('skips providers that cannot do the purge and throws when none can', async () => {
    const fake = await fakeFastly({ serviceId: 's' });
    const f = fastly({ serviceId: 's', apiKey: FASTLY_KEY, apiBaseUrl: fake.url });
    const cdn = createCdnManager({ providers: [f, memoryProvider()], mode: 'failover' });
    const result = await cdn.purge({ prefixes: ['/img/'] });
    expect(result.servedBy).toBe('memory');
    const only = createCdnManager({ providers: [f], mode: 'failover' });
    expect(isNoaError(await only.purge({ prefixes: ['/img/'] }).catch((e) => e), 'NOA_CDN_UNSUPPORTED')).toBe(
      true,
    );
    await fake.close();
  });

  it('reports ok: false when every provider fails', async () => {
    const cdn = createCdnManager({
      providers: [memoryProvider({ name: 'x', failing: true }), memoryProvider({ name: 'y', failing: true })],
      mode: 'failover',
    });
    const result = await cdn.purge({ urls: ['/a'] });
    expect(result.ok).toBe(false);
    expect(result.servedBy).toBeUndefined();
    expect(result.providers.every((p) => p.failures.length === 1)).toBe(true);
  });
});

describe('createCdnManager: signUrl', () => {
  let fake: Awaited<ReturnType<typeof fakeFastly>>;
  beforeAll(async () => {
    fake = await fakeFastly({ serviceId: 's' });
  });
  afterAll(() => fake.close());

  it('routes to the named provider, or the first one with keys', () => {
    const cdn = createCdnManager({
      providers: [
        memoryProvider(),
        fastly({
          serviceId: 's',
          apiKey: FASTLY_KEY,
          apiBaseUrl: fake.url,
          tokenSecret: Buffer.from('k').toString('base64'),
        }),
        akamai({ ...AKAMAI_CREDENTIALS, host: 'akab-x', edgeAuth: { key: 'aabbcc' } }),
      ],
    });
    const expiresAt = Date.UTC(2030, 0, 1);
    expect(cdn.signUrl('https://www.example.com/v.mp4', { expiresAt })).toMatch(
      /\?token=1893456000_[0-9a-f]{40}$/,
    );
    expect(
      cdn.signUrl('https://www.example.com/v.mp4', { expiresAt, provider: 'akamai', ipAddress: '10.0.0.1' }),
    ).toMatch(/\?__token__=ip=10\.0\.0\.1~exp=1893456000~hmac=[0-9a-f]{64}$/);
    expect(() =>
      cdn.signUrl('https://www.example.com/v.mp4', { expiresAt, provider: 'fastly', ipAddress: '1.2.3.4' }),
    ).toThrow(/cannot be expressed/);
    expect(() => cdn.signUrl('https://x/y', { expiresAt, provider: 'nope' })).toThrow(/no provider named/);
  });

  it('throws NOA_CDN_SIGNING_NOT_CONFIGURED when no provider has keys', () => {
    const cdn = createCdnManager({ providers: [memoryProvider()] });
    try {
      cdn.signUrl('https://x/y', { expiresAt: Date.now() + 1000 });
      expect.unreachable();
    } catch (error) {
      expect(isNoaError(error, 'NOA_CDN_SIGNING_NOT_CONFIGURED')).toBe(true);
    }
  });
});
