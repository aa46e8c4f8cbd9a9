import { NoaError } from '@noa/core';
import { assertDuration, assertTtl } from './internal/validate.js';

export interface HttpHeaderOptions {
  /** How long shared caches (the CDN) keep the response: `s-maxage`. Default: the cache's defaultTtlMs. */
  ttlMs?: number;
  /** How long browsers keep it: `max-age`. Default 0 (browsers revalidate; the CDN is purged on change). */
  browserTtlMs?: number;
  /** `stale-while-revalidate` and `stale-if-error`. Default: the cache's defaultGraceMs. */
  graceMs?: number;
  /** Tags of the data in the response; they become surrogate keys the CDN can purge by. */
  tags?: readonly string[];
}

const ONE_YEAR_S = 31_536_000;
const seconds = (ms: number) => (ms === Number.POSITIVE_INFINITY ? ONE_YEAR_S : Math.floor(ms / 1000));

/** Builds `Cache-Control`, `Surrogate-Key` (Fastly, Akamai) and `Cache-Tag` (Cloudflare) headers. */
export function cacheHttpHeaders(
  options: HttpHeaderOptions,
  defaultTtlMs: number,
  defaultGraceMs: number,
  surrogateKeysFor: ((tags: readonly string[]) => string[]) | undefined,
): Record<string, string> {
  const { ttlMs = defaultTtlMs, browserTtlMs = 0, graceMs = defaultGraceMs, tags = [] } = options;
  assertTtl(ttlMs, 'httpHeaders: ttlMs');
  assertDuration(browserTtlMs, 'httpHeaders: browserTtlMs');
  assertDuration(graceMs, 'httpHeaders: graceMs');
  const directives = ['public', `max-age=${seconds(browserTtlMs)}`, `s-maxage=${seconds(ttlMs)}`];
  if (graceMs > 0) {
    directives.push(`stale-while-revalidate=${seconds(graceMs)}`, `stale-if-error=${seconds(graceMs)}`);
  }
  const headers: Record<string, string> = { 'Cache-Control': directives.join(', ') };
  const keys = tags.length ? (surrogateKeysFor ? surrogateKeysFor(tags) : [...tags]) : [];
  for (const key of keys) {
    if (!/^[^\s,]+$/.test(key)) {
      throw new NoaError(
        'NOA_CACHE_INVALID_TAG',
        `httpHeaders: surrogate key "${key}" contains whitespace or a comma; map tags with surrogateKeysFor`,
      );
    }
  }
  if (keys.length) {
    headers['Surrogate-Key'] = keys.join(' ');
    headers['Cache-Tag'] = keys.join(',');
  }
  return headers;
}
