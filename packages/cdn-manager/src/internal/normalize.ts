import { NoaError } from '@noa/core';
import type { PurgeKind, PurgeRequest } from '../types.js';

export interface NormalizedPurge {
  urls: string[];
  prefixes: string[];
  tags: string[];
  hosts: string[];
  everything: boolean;
  soft: boolean;
}

const invalid = (message: string) => new NoaError('NOA_CDN_INVALID_PURGE', message);

function list(value: unknown, field: string, check: (item: string) => string | undefined): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(`purge: ${field} must be an array of strings`);
  const out = new Set<string>();
  for (const item of value) {
    if (typeof item !== 'string' || item.length === 0)
      throw invalid(`purge: ${field} must contain non-empty strings, got ${JSON.stringify(item)}`);
    const problem = check(item);
    if (problem) throw invalid(`purge: ${field} entry ${JSON.stringify(item)} ${problem}`);
    out.add(item);
  }
  return [...out];
}

const urlProblem = (item: string): string | undefined => {
  if (item.startsWith('/')) return undefined;
  try {
    const url = new URL(item);
    return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'must be http(s)';
  } catch {
    return 'must be an absolute URL or a path starting with /';
  }
};

/** Validates a purge request at the boundary and de-duplicates its lists. */
export function normalizePurge(request: PurgeRequest): NormalizedPurge {
  if (request === null || typeof request !== 'object')
    throw invalid('purge: pass an object like { urls: [...] }');
  const normalized: NormalizedPurge = {
    urls: list(request.urls, 'urls', urlProblem),
    prefixes: list(request.prefixes, 'prefixes', urlProblem),
    tags: list(request.tags, 'tags', (tag) => (/\s/.test(tag) ? 'must not contain whitespace' : undefined)),
    hosts: list(request.hosts, 'hosts', (host) =>
      /^[a-z0-9.-]+(:\d+)?$/i.test(host) ? undefined : 'must be a hostname like www.example.com',
    ),
    everything: request.everything === true,
    soft: request.soft === true,
  };
  if (
    !normalized.everything &&
    normalized.urls.length + normalized.prefixes.length + normalized.tags.length + normalized.hosts.length ===
      0
  )
    throw invalid('purge: nothing to purge; pass urls, prefixes, tags, hosts or everything: true');
  return normalized;
}

/** The kinds a request asks for, in a stable order. */
export function requestedKinds(purge: NormalizedPurge): PurgeKind[] {
  if (purge.everything) return ['everything'];
  return (['urls', 'prefixes', 'tags', 'hosts'] as const).filter((kind) => purge[kind].length > 0);
}

/** Resolves `/path` against the provider's base URL; absolute URLs pass through. */
export function absoluteUrl(value: string, baseUrl: string | undefined, provider: string): string {
  if (!value.startsWith('/')) return value;
  if (!baseUrl)
    throw new NoaError(
      'NOA_CDN_RELATIVE_URL',
      `${provider} needs absolute URLs; "${value}" is a path. Pass baseUrl (e.g. https://www.example.com) to ${provider}()`,
    );
  return new URL(value, baseUrl).href;
}

/** Adds `query` (already encoded: `a=1&b=2`) to a URL that may have a query string. */
export const appendQuery = (url: string, query: string): string =>
  `${url}${url.includes('?') ? '&' : '?'}${query}`;

/** Seconds since the epoch, as the signed-URL forms carry times. */
export const epochSeconds = (value: Date | number): number =>
  Math.floor((value instanceof Date ? value.getTime() : value) / 1000);

/** The path and query of a URL or path, as CDNs that purge by path want it. */
export function pathOf(value: string): string {
  // Resolving against a placeholder origin percent-encodes what must be encoded, as CDNs expect.
  const url = new URL(value, 'http://placeholder.invalid');
  return url.pathname + url.search;
}
