import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { isNoaError } from '@noa/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CdnProvider, createSimulatedClock, memoryProvider } from '../src/index.js';
import { akamai } from '../src/providers/akamai.js';
import { cloudflare } from '../src/providers/cloudflare.js';
import { cloudfront } from '../src/providers/cloudfront.js';
import { fastly } from '../src/providers/fastly.js';
import { providerContract } from './contract.js';
import {
  AKAMAI_CREDENTIALS,
  AWS_CREDENTIALS,
  CF_KEY,
  CF_TOKEN,
  FASTLY_KEY,
  fakeAkamai,
  fakeCloudFront,
  fakeCloudflare,
  fakeFastly,
} from './fakes.js';

const urls = (n: number, prefix = 'https://www.example.com/assets/page-') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(5, '0')}.html`);
const fastRetry = { attempts: 4, backoff: { delayMs: 1, maxDelayMs: 5 } };

providerContract('memory', async () => ({ provider: memoryProvider(), close: async () => {} }));

/** A contract setup: start a fake API, point a provider at its URL, close both afterwards. */
const onFake =
  (start: () => Promise<{ url: string; close(): Promise<void> }>, make: (url: string) => CdnProvider) =>
  async () => {
    const fake = await start();
    const provider = make(fake.url);
    return {
      provider,
      close: async () => {
        await provider.close();
        await fake.close();
      },
    };
  };
const SITE = 'https://www.example.com';

providerContract(
  'cloudflare (fake Cloudflare API)',
  onFake(
    () => fakeCloudflare({ zoneId: 'z1' }),
    (url) =>
      cloudflare({ zoneId: 'z1', apiToken: CF_TOKEN, apiBaseUrl: url, baseUrl: SITE, plan: 'enterprise' }),
  ),
);
providerContract(
  'fastly (fake Fastly API)',
  onFake(
    () => fakeFastly({ serviceId: 's1' }),
    (url) => fastly({ serviceId: 's1', apiKey: FASTLY_KEY, apiBaseUrl: url, baseUrl: SITE }),
  ),
);
providerContract(
  'akamai (fake Akamai Fast Purge API)',
  onFake(fakeAkamai, (url) =>
    akamai({ ...AKAMAI_CREDENTIALS, host: url, baseUrl: SITE, everythingCpCodes: [12345] }),
  ),
);
providerContract(
  'cloudfront (fake CloudFront REST-XML API)',
  onFake(
    () => fakeCloudFront({ distributionId: 'D1' }),
    (url) =>
      cloudfront({
        distributionId: 'D1',
        clientConfig: { endpoint: url, credentials: AWS_CREDENTIALS },
        pollIntervalMs: 5,
      }),
  ),
);

describe('cloudflare (fake Cloudflare API)', () => {
  let fake: Awaited<ReturnType<typeof fakeCloudflare>>;
  beforeAll(async () => {
    fake = await fakeCloudflare({ zoneId: 'zone-9', maxItems: 100 });
  });
  afterAll(() => fake.close());

  it('sends 10,000 URLs as 100 requests of 100 files with the Bearer token, within the free plan rate', async () => {
    fake.requests.length = 0;
    const clock = createSimulatedClock();
    const provider = cloudflare({ zoneId: 'zone-9', apiToken: CF_TOKEN, apiBaseUrl: fake.url, clock });
    const result = await provider.purge({ urls: urls(10_000) });
    expect(result.ok).toBe(true);
    expect(result.requests).toBe(100);
    expect(fake.requests).toHaveLength(100);
    expect(fake.requests.every((r) => r.headers.authorization === `Bearer ${CF_TOKEN}`)).toBe(true);
    expect(new Set(fake.requests.flatMap((r) => JSON.parse(r.body).files)).size).toBe(10_000);
    // 800 URLs per second with an 800 bucket: the last 9,200 take 11.5 s of simulated time.
    expect(clock.now()).toBeGreaterThanOrEqual(11_500);
    expect(clock.now()).toBeLessThan(12_500);
  });

  it('maps tags, hosts and scheme-less prefixes; one purge type per request', async () => {
    fake.requests.length = 0;
    const provider = cloudflare({
      zoneId: 'zone-9',
      apiToken: CF_TOKEN,
      apiBaseUrl: fake.url,
      baseUrl: 'https://shop.example.com',
      plan: 'pro',
    });
    const result = await provider.purge({
      tags: ['a', 'b'],
      hosts: ['shop.example.com'],
      prefixes: ['/img/', 'https://cdn.example.com/js/'],
    });
    expect(result.ok).toBe(true);
    expect(fake.requests.map((r) => JSON.parse(r.body))).toEqual([
      { prefixes: ['shop.example.com/img/', 'cdn.example.com/js/'] },
      { tags: ['a', 'b'] },
      { hosts: ['shop.example.com'] },
    ]);
  });

  it('waits out a 429 for its Retry-After, then succeeds', async () => {
    fake.requests.length = 0;
    const clock = createSimulatedClock();
    const retries: number[] = [];
    const provider = cloudflare({
      zoneId: 'zone-9',
      apiToken: CF_TOKEN,
      apiBaseUrl: fake.url,
      clock,
      plan: 'enterprise',
      retry: fastRetry,
    });
    fake.failNext(1, 429, { 'retry-after': '7' });
    const result = await provider.purge({ everything: true }, { onRetry: (i) => retries.push(i.delayMs) });
    expect(result.ok).toBe(true);
    expect(result.attempts).toBe(2);
    expect(retries[0]).toBeGreaterThanOrEqual(7_000);
    expect(clock.now()).toBeGreaterThanOrEqual(7_000);
  });

  it('reports a batch that keeps failing with its items, and does not retry 4xx', async () => {
    fake.requests.length = 0;
    const provider = cloudflare({
      zoneId: 'zone-9',
      apiToken: 'wrong',
      apiBaseUrl: fake.url,
      retry: fastRetry,
    });
    const result = await provider.purge({ tags: ['x', 'y'] });
    expect(result.ok).toBe(false);
    expect(fake.requests).toHaveLength(1);
    expect(result.failures[0]!.items).toEqual(['x', 'y']);
    expect(isNoaError(result.failures[0]!.error, 'NOA_CDN_AUTH_FAILED')).toBe(true);
  });

  it('retries 5xx with backoff until success', async () => {
    const provider = cloudflare({
      zoneId: 'zone-9',
      apiToken: CF_TOKEN,
      apiBaseUrl: fake.url,
      retry: fastRetry,
      clock: createSimulatedClock(),
    });
    fake.failNext(2, 503);
    const result = await provider.purge({ tags: ['t'] });
    expect(result.ok).toBe(true);
    expect(result.attempts).toBe(3);
  });

  it('authenticates with the legacy global key and email headers, refused with a wrong email', async () => {
    fake.requests.length = 0;
    const make = (email: string) =>
      cloudflare({ zoneId: 'zone-9', apiKey: CF_KEY.apiKey, email, apiBaseUrl: fake.url, retry: fastRetry });
    expect((await make(CF_KEY.email).purge({ tags: ['t'] })).ok).toBe(true);
    expect(fake.requests[0]!.headers.authorization).toBeUndefined();
    const wrong = await make('someone@example.com').purge({ tags: ['t'] });
    expect(isNoaError(wrong.failures[0]!.error, 'NOA_CDN_AUTH_FAILED')).toBe(true);
  });

  it('needs baseUrl for relative URLs', () => {
    const provider = cloudflare({ zoneId: 'z', apiToken: CF_TOKEN });
    expect(() => provider.plan({ urls: ['/a'] })).toThrow(/baseUrl/);
  });
});

describe('fastly (fake Fastly API)', () => {
  let fake: Awaited<ReturnType<typeof fakeFastly>>;
  beforeAll(async () => {
    fake = await fakeFastly({ serviceId: 'svc' });
  });
  afterAll(() => fake.close());

  it('batches 1,000 surrogate keys into 4 requests of at most 256, soft when asked', async () => {
    fake.requests.length = 0;
    const provider = fastly({ serviceId: 'svc', apiKey: FASTLY_KEY, apiBaseUrl: fake.url });
    const tags = Array.from({ length: 1000 }, (_, i) => `key-${i}`);
    const result = await provider.purge({ tags, soft: true });
    expect(result.ok).toBe(true);
    expect(result.requests).toBe(4);
    expect(fake.requests.map((r) => JSON.parse(r.body).surrogate_keys.length)).toEqual([256, 256, 256, 232]);
    expect(
      fake.requests.every(
        (r) => r.headers['fastly-soft-purge'] === '1' && r.headers['fastly-key'] === FASTLY_KEY,
      ),
    ).toBe(true);
  });

  it('purges URLs one per request without the scheme, and everything via purge_all (hard, noted)', async () => {
    fake.requests.length = 0;
    const provider = fastly({ serviceId: 'svc', apiKey: FASTLY_KEY, apiBaseUrl: fake.url });
    const result = await provider.purge({
      urls: ['https://www.example.com/a?b=1', 'http://www.example.com/c'],
    });
    expect(result.requests).toBe(2);
    expect(fake.requests.map((r) => r.path).sort()).toEqual([
      '/purge/www.example.com/a?b=1',
      '/purge/www.example.com/c',
    ]);
    expect(fake.requests.every((r) => r.headers['fastly-soft-purge'] === undefined)).toBe(true);
    const all = await provider.purge({ everything: true, soft: true });
    expect(all.ok).toBe(true);
    expect(all.notes.join()).toMatch(/cannot soft-purge everything/);
    expect(fake.requests.at(-1)!.path).toBe('/service/svc/purge_all');
  });

  it('refuses prefixes with a hint about surrogate keys', () => {
    const provider = fastly({ serviceId: 'svc', apiKey: FASTLY_KEY });
    expect(provider.plan({ prefixes: ['/img/'] }).unsupported[0]).toMatch(/Surrogate-Key/);
  });
});

describe('akamai (fake Akamai Fast Purge API)', () => {
  let fake: Awaited<ReturnType<typeof fakeAkamai>>;
  beforeAll(async () => {
    fake = await fakeAkamai();
  });
  afterAll(() => fake.close());

  it('packs 10,000 URLs into bodies under 50,000 bytes, EdgeGrid-signed, one object type each', async () => {
    fake.requests.length = 0;
    const provider = akamai({ ...AKAMAI_CREDENTIALS, host: fake.url, clock: createSimulatedClock() });
    const list = urls(10_000);
    const plan = provider.plan({ urls: list });
    const totalBytes = list.reduce((n, u) => n + Buffer.byteLength(JSON.stringify(u)) + 1, 0);
    expect(plan.requests.length).toBeLessThanOrEqual(Math.ceil(totalBytes / (50_000 - 14)) + 1);
    const result = await provider.purge({ urls: list });
    expect(result.ok).toBe(true);
    expect(fake.signatureFailures).toBe(0);
    expect(fake.requests).toHaveLength(plan.requests.length);
    expect(fake.requests.every((r) => Buffer.byteLength(r.body) <= 50_000)).toBe(true);
    expect(fake.requests.every((r) => r.path === '/ccu/v3/delete/url/production')).toBe(true);
    expect(fake.requests.flatMap((r) => JSON.parse(r.body).objects).sort()).toEqual(list);
  });

  it('uses invalidate for soft purges, tags and CP codes for everything', async () => {
    fake.requests.length = 0;
    const provider = akamai({
      ...AKAMAI_CREDENTIALS,
      host: fake.url,
      network: 'staging',
      everythingCpCodes: [111, 222],
    });
    expect((await provider.purge({ tags: ['t1', 't2'], soft: true })).ok).toBe(true);
    expect((await provider.purge({ everything: true })).ok).toBe(true);
    expect(fake.requests.map((r) => [r.path, JSON.parse(r.body)])).toEqual([
      ['/ccu/v3/invalidate/tag/staging', { objects: ['t1', 't2'] }],
      ['/ccu/v3/delete/cpcode/staging', { objects: [111, 222] }],
    ]);
  });

  it('on 429 without Retry-After waits the documented five seconds, and tokens are re-acquired', async () => {
    fake.requests.length = 0;
    const clock = createSimulatedClock();
    const provider = akamai({ ...AKAMAI_CREDENTIALS, host: fake.url, clock, retry: fastRetry });
    fake.failNext(1, 429);
    const result = await provider.purge({ urls: ['https://www.example.com/x'] });
    expect(result.ok).toBe(true);
    expect(result.attempts).toBe(2);
    expect(clock.now()).toBeGreaterThanOrEqual(5_000);
  });

  it('drains 30,000 URLs at the documented 12,000 URLs per minute after the 10,000 burst', async () => {
    const clock = createSimulatedClock();
    const provider = akamai({ ...AKAMAI_CREDENTIALS, host: fake.url, clock });
    const result = await provider.purge({ urls: urls(30_000) });
    expect(result.ok).toBe(true);
    expect(clock.now()).toBeGreaterThanOrEqual(100_000 - 1_000);
    expect(clock.now()).toBeLessThan(100_000 + 5_000);
  });

  it('refuses everything without CP codes and prefixes always', () => {
    const provider = akamai({ ...AKAMAI_CREDENTIALS, host: 'akab-x.luna.akamaiapis.net' });
    expect(provider.plan({ everything: true }).unsupported).toHaveLength(1);
    expect(provider.plan({ prefixes: ['/a/'] }).unsupported).toHaveLength(1);
  });
});

describe('cloudfront (fake CloudFront REST-XML API)', () => {
  let fake: Awaited<ReturnType<typeof fakeCloudFront>>;
  beforeAll(async () => {
    fake = await fakeCloudFront({ distributionId: 'DIST', completeAfterGets: 2 });
  });
  afterAll(() => fake.close());

  const make = (extra: Record<string, unknown> = {}) =>
    cloudfront({
      distributionId: 'DIST',
      clientConfig: { endpoint: fake.url, credentials: AWS_CREDENTIALS },
      pollIntervalMs: 2,
      ...extra,
    });

  it('invalidates 10,000 paths in 4 requests, queueing so 3,000 paths in progress are never exceeded', async () => {
    fake.invalidations.length = 0;
    const provider = make();
    const result = await provider.purge({ urls: urls(10_000) });
    await provider.close();
    expect(result.ok).toBe(true);
    expect(result.requests).toBe(4);
    expect(result.ids).toHaveLength(4);
    expect(fake.peak.paths).toBeLessThanOrEqual(3_000);
    expect(new Set(fake.invalidations.map((i) => i.reference)).size).toBe(4);
    expect(fake.invalidations[0]!.paths[0]).toBe('/assets/page-00000.html');
  });

  it("maps prefixes to trailing wildcards, at most 15 in progress, counting another client's", async () => {
    fake.invalidations.length = 0;
    fake.peak.wildcards = 0;
    fake.preload(['/other/*', '/more/*']);
    const provider = make();
    const prefixes = Array.from({ length: 20 }, (_, i) => `/section-${i}/`);
    const result = await provider.purge({ prefixes, urls: ['/index.html'] });
    await provider.close();
    expect(result.ok).toBe(true);
    expect(result.purged.prefixes).toBe(20);
    expect(result.purged.urls).toBe(1);
    expect(fake.peak.wildcards).toBeLessThanOrEqual(15);
    expect(fake.invalidations.flatMap((i) => i.paths)).toContain('/section-0/*');
  });

  it('concurrent purges on one provider share the in-progress limit: nothing is refused, even without retries', async () => {
    fake.invalidations.length = 0;
    fake.requests.length = 0;
    const provider = make({ retry: { attempts: 1 } });
    const [a, b] = await Promise.all([
      provider.purge({ urls: urls(2_000, '/a/') }),
      provider.purge({ urls: urls(2_000, '/b/') }),
    ]);
    await provider.close();
    expect([a.ok, b.ok]).toEqual([true, true]);
    const creates = fake.requests.filter((r) => r.method === 'POST');
    expect(creates).toHaveLength(2);
    expect(fake.invalidations).toHaveLength(2);
    expect(fake.peak.paths).toBeLessThanOrEqual(3_000);
  });

  it('refuses a wildcard in the middle of a path, and tags', () => {
    const provider = make();
    expect(() => provider.plan({ urls: ['/a/*/b'] })).toThrow(/only allows \* at the end/);
    expect(provider.plan({ tags: ['t'] }).unsupported).toHaveLength(1);
    return provider.close();
  });

  it('rejects wrong credentials as a failure with the items', async () => {
    const client = new CloudFrontClient({
      region: 'us-east-1',
      endpoint: fake.url,
      credentials: { accessKeyId: 'WRONG', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const provider = cloudfront({ distributionId: 'DIST', client, syncInProgress: false, retry: fastRetry });
    const result = await provider.purge({ urls: ['/x'] });
    expect(result.ok).toBe(false);
    expect(result.failures[0]!.items).toEqual(['/x']);
    client.destroy();
  });

  it('signs URLs with its key pair', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const provider = make({ keyPairId: 'K2JCJMDEHXQW5F', privateKey: pem });
    const signed = provider.signUrl!('https://d111.cloudfront.net/a.mp4', {
      expiresAt: Date.UTC(2030, 0, 1),
    });
    expect(signed).toMatch(
      /^https:\/\/d111\.cloudfront\.net\/a\.mp4\?Expires=1893456000&Signature=[A-Za-z0-9~_-]+&Key-Pair-Id=K2JCJMDEHXQW5F$/,
    );
    expect(provider.capabilities().signing).toContain('cloudfront-canned');
    createPrivateKey(pem);
    return provider.close();
  });
});
