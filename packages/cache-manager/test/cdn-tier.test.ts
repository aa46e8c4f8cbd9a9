import { waitUntil } from '@noa/testkit';
import { describe, expect, it } from 'vitest';
import { type CdnPurgeRequest, type CdnPurger, cdnTier } from '../src/cdn.js';
import { type CacheEvents, createCache, memoryTier } from '../src/index.js';

/**
 * A recording purger: a test double of @noa/cdn-manager's `cdn.purge()` API (another package), not
 * of a CDN service. It records requests and can be told to fail the next ones.
 */
function recordingCdnManager() {
  const requests: CdnPurgeRequest[] = [];
  let failures = 0;
  const cdn: CdnPurger & { requests: CdnPurgeRequest[]; failNext(n: number): void } = {
    requests,
    failNext: (n) => {
      failures = n;
    },
    async purge(request) {
      if (failures > 0) {
        failures--;
        return { ok: false };
      }
      requests.push(request);
      return { ok: true };
    },
  };
  return cdn;
}

const setup = (extra: Partial<Parameters<typeof cdnTier>[0]> = {}) => {
  const cdn = recordingCdnManager();
  const edge = cdnTier({
    cdn,
    urlFor: (key) => (key.startsWith('page:') ? `https://www.example.com/${key.slice(5)}` : undefined),
    surrogateKeysFor: (tags) => tags.map((tag) => tag.replace(':', '-')),
    batchMs: 20,
    ...extra,
  });
  const cache = createCache({ namespace: 'site', tiers: [memoryTier(), edge] });
  return { cdn, edge, cache };
};

describe('cdnTier (with a recording @noa/cdn-manager test double)', () => {
  it('purges the URLs of deleted and overwritten keys and the surrogate keys of tags, batched', async () => {
    const { cdn, edge, cache } = setup();
    await cache.set('page:home', '<html>');
    await cache.set('page:about', '<html>');
    await cache.set('user:1', { private: true }); // not served publicly: no URL
    await cache.delete('page:blog');
    await cache.invalidateTags(['post:1', 'post:2']);
    expect(cdn.requests).toEqual([]); // still batching
    await edge.flush();
    expect(cdn.requests).toEqual([
      {
        urls: [
          'https://www.example.com/home',
          'https://www.example.com/about',
          'https://www.example.com/blog',
        ],
        tags: ['post-1', 'post-2'],
      },
    ]);
    await cache.close();
  });

  it('never reads from the CDN and is not written on loads', async () => {
    const { cdn, cache } = setup();
    expect(await cache.getOrSet('page:x', () => 'built')).toBe('built');
    expect(await cache.get('page:x')).toBe('built');
    await cache.close();
    expect(cdn.requests).toEqual([]);
  });

  it('sends a batch early when it is full, soft when asked', async () => {
    const { cdn, cache } = setup({ maxBatch: 3, batchMs: 60_000, soft: true });
    for (let i = 0; i < 3; i++) await cache.delete(`page:${i}`);
    await waitUntil(() => cdn.requests.length === 1);
    expect(cdn.requests[0]).toEqual({
      urls: ['https://www.example.com/0', 'https://www.example.com/1', 'https://www.example.com/2'],
      soft: true,
    });
    await cache.close();
  });

  it('retries a refused purge, and reports one that keeps failing', async () => {
    const { cdn, edge, cache } = setup({ attempts: 3, batchMs: 1 });
    cdn.failNext(2);
    await cache.invalidateTags(['post:9']);
    await edge.flush();
    expect(cdn.requests).toEqual([{ tags: ['post-9'] }]);
    const errors: CacheEvents['error'][0][] = [];
    cache.on('error', (event) => errors.push(event));
    cdn.failNext(3);
    await cache.invalidateTags(['post:10']);
    await edge.flush();
    expect(errors).toEqual([expect.objectContaining({ operation: 'cdn.purge', tier: 'cdn' })]);
    await cache.close();
  });

  it('purges everything on clear only when told to', async () => {
    const quiet = setup();
    await quiet.cache.clear();
    await quiet.edge.flush();
    expect(quiet.cdn.requests).toEqual([]);
    const loud = setup({ purgeEverythingOnClear: true });
    await loud.cache.clear();
    await loud.edge.flush();
    expect(loud.cdn.requests).toEqual([{ everything: true }]);
  });

  it('close() sends what is still queued', async () => {
    const { cdn, cache } = setup({ batchMs: 60_000 });
    await cache.delete('page:last');
    await cache.close();
    expect(cdn.requests).toEqual([{ urls: ['https://www.example.com/last'] }]);
  });

  it('httpHeaders use the tier’s surrogate keys', () => {
    const { cache } = setup();
    expect(cache.httpHeaders('page:home', { ttlMs: 120_000, tags: ['post:1'] })).toEqual({
      'Cache-Control': 'public, max-age=0, s-maxage=120',
      'Surrogate-Key': 'post-1',
      'Cache-Tag': 'post-1',
    });
  });

  it('validates its options', () => {
    expect(() => cdnTier({ cdn: {} as never })).toThrow(/purge/);
    expect(() => cdnTier({ cdn: recordingCdnManager(), maxBatch: 0 })).toThrow(/maxBatch/);
  });
});
