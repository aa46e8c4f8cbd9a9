import { invariant, NoaError } from '@noa/core';
import { systemClock } from '../clock.js';
import { packBatches } from '../internal/batch.js';
import { absoluteUrl, normalizePurge, requestedKinds } from '../internal/normalize.js';
import {
  apiBase,
  checkProviderOptions,
  checkSignOptions,
  executePlan,
  type HttpProviderOptions,
  jsonPoster,
  signingNotConfigured,
} from '../internal/provider.js';
import { RateLimiter } from '../internal/rate-limiter.js';
import { cloudflareToken, withQueryParam } from '../signing/hmac-token.js';
import type { CdnProvider, PlannedRequest, ProviderCapabilities, PurgePlan } from '../types.js';

export { type CloudflareTokenOptions, cloudflareToken } from '../signing/hmac-token.js';

export type CloudflarePlan = 'free' | 'pro' | 'business' | 'enterprise';

export interface CloudflareLimits {
  /** URLs in one single-file purge request. */
  urlsPerRequest: number;
  /** Tags, hosts or prefixes in one request. */
  itemsPerRequest: number;
  /** Single-file purge rate (URLs per second, a moving average). */
  urlsPerSecond: number;
  /** Tag/host/prefix/everything requests per second, and the bucket size. */
  requestsPerSecond: number;
  requestBurst: number;
}

/** Cloudflare's documented purge limits per plan ("Purge cache", applied per account). */
export const cloudflarePlanLimits: Record<CloudflarePlan, CloudflareLimits> = {
  free: {
    urlsPerRequest: 100,
    itemsPerRequest: 100,
    urlsPerSecond: 800,
    requestsPerSecond: 5 / 60,
    requestBurst: 25,
  },
  pro: {
    urlsPerRequest: 100,
    itemsPerRequest: 100,
    urlsPerSecond: 1500,
    requestsPerSecond: 5,
    requestBurst: 25,
  },
  business: {
    urlsPerRequest: 100,
    itemsPerRequest: 100,
    urlsPerSecond: 1500,
    requestsPerSecond: 10,
    requestBurst: 50,
  },
  enterprise: {
    urlsPerRequest: 500,
    itemsPerRequest: 100,
    urlsPerSecond: 3000,
    requestsPerSecond: 50,
    requestBurst: 500,
  },
};

export interface CloudflareOptions extends HttpProviderOptions {
  zoneId: string;
  /** An API token with the Cache Purge permission (sent as a Bearer token). */
  apiToken?: string;
  /** Legacy global API key + account email, instead of apiToken. */
  apiKey?: string;
  email?: string;
  /** The account's plan, which sets the documented limits. Default 'free'. */
  plan?: CloudflarePlan;
  /** Overrides of the plan's limits (e.g. a contract with higher ones). */
  limits?: Partial<CloudflareLimits>;
  /** Site origin for relative URLs and prefixes: https://www.example.com */
  baseUrl?: string;
  /** Default https://api.cloudflare.com/client/v4 */
  apiBaseUrl?: string;
  /** Secret of the WAF rule's `is_timed_hmac_valid_v0()`, for signUrl. */
  tokenSecret?: string;
  /** The rule's ttl: signUrl back-dates the token so it expires at `expiresAt`. Default 3600. */
  tokenTtlSeconds?: number;
  /** Query parameter carrying the token. Default 'verify'. */
  tokenParam?: string;
}

const bodyKey = { urls: 'files', tags: 'tags', hosts: 'hosts', prefixes: 'prefixes' } as const;

class CloudflareProvider implements CdnProvider {
  readonly name: string;
  readonly #options: CloudflareOptions;
  readonly #limits: CloudflareLimits;
  readonly #limiter: RateLimiter;
  readonly #post: ReturnType<typeof jsonPoster>;
  readonly #apiBase: string;

  constructor(options: CloudflareOptions) {
    checkProviderOptions(options, 'cloudflare');
    invariant(options.zoneId, 'cloudflare(): zoneId is required (the zone id from the dashboard overview)');
    invariant(
      options.apiToken || (options.apiKey && options.email),
      'cloudflare(): pass apiToken (recommended) or apiKey + email',
    );
    const plan = options.plan ?? 'free';
    invariant(
      plan in cloudflarePlanLimits,
      `cloudflare(): plan must be one of ${Object.keys(cloudflarePlanLimits).join(', ')}`,
    );
    this.#options = options;
    this.name = options.name ?? 'cloudflare';
    this.#limits = { ...cloudflarePlanLimits[plan], ...options.limits };
    const clock = options.clock ?? systemClock;
    // Single-file purges and the other purge types are limited separately.
    this.#limiter = new RateLimiter(
      {
        urls: { capacity: this.#limits.urlsPerSecond, refillPerSecond: this.#limits.urlsPerSecond },
        requests: { capacity: this.#limits.requestBurst, refillPerSecond: this.#limits.requestsPerSecond },
      },
      clock,
    );
    this.#post = jsonPoster(this.name, options);
    this.#apiBase = apiBase(options.apiBaseUrl ?? 'https://api.cloudflare.com/client/v4');
  }

  capabilities(): ProviderCapabilities {
    const l = this.#limits;
    return {
      urls: true,
      prefixes: true,
      tags: true,
      hosts: true,
      everything: true,
      softPurge: false,
      signing: this.#options.tokenSecret ? ['cloudflare-hmac'] : [],
      limits: {
        itemsPerRequest: {
          urls: l.urlsPerRequest,
          tags: l.itemsPerRequest,
          hosts: l.itemsPerRequest,
          prefixes: l.itemsPerRequest,
        },
        rateLimits: {
          urls: { capacity: l.urlsPerSecond, refillPerSecond: l.urlsPerSecond },
          requests: { capacity: l.requestBurst, refillPerSecond: l.requestsPerSecond },
        },
      },
    };
  }

  plan(request: Parameters<CdnProvider['plan']>[0]): PurgePlan {
    const purge = normalizePurge(request);
    const plan: PurgePlan = { provider: this.name, requests: [], unsupported: [], notes: [] };
    if (purge.soft) plan.notes.push('Cloudflare has no soft purge: purged hard');
    for (const kind of requestedKinds(purge)) {
      if (kind === 'everything') {
        plan.requests.push({ kind, items: ['*'], cost: { requests: 1 } });
        continue;
      }
      const items =
        kind === 'urls'
          ? purge.urls.map((u) => absoluteUrl(u, this.#options.baseUrl, this.name))
          : kind === 'prefixes'
            ? // Cloudflare's prefixes carry no scheme: www.example.com/img/
              purge.prefixes.map((p) =>
                absoluteUrl(p, this.#options.baseUrl, this.name).replace(/^https?:\/\//, ''),
              )
            : purge[kind];
      const maxItems = kind === 'urls' ? this.#limits.urlsPerRequest : this.#limits.itemsPerRequest;
      for (const batch of packBatches(items, { maxItems }).batches)
        plan.requests.push({
          kind,
          items: batch,
          cost: kind === 'urls' ? { urls: batch.length } : { requests: 1 },
        });
    }
    return plan;
  }

  async purge(request: Parameters<CdnProvider['purge']>[0], context?: Parameters<CdnProvider['purge']>[1]) {
    return executePlan(
      this.#options,
      {
        plan: this.plan(request),
        limiter: this.#limiter,
        concurrency: this.#options.concurrency ?? 4,
        send: (planned, signal) => this.#send(planned, signal),
      },
      request.signal,
      context,
    );
  }

  async #send(planned: PlannedRequest, signal?: AbortSignal): Promise<string | undefined> {
    const o = this.#options;
    const body =
      planned.kind === 'everything' ? { purge_everything: true } : { [bodyKey[planned.kind]]: planned.items };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (o.apiToken) headers.authorization = `Bearer ${o.apiToken}`;
    else {
      headers['x-auth-key'] = o.apiKey!;
      headers['x-auth-email'] = o.email!;
    }
    const answer = await this.#post(`${this.#apiBase}/zones/${encodeURIComponent(o.zoneId)}/purge_cache`, {
      headers,
      body: JSON.stringify(body),
      signal,
    });
    if (answer?.success === false)
      throw new NoaError(
        'NOA_CDN_REQUEST_FAILED',
        `${this.name} refused the purge: ${JSON.stringify(answer.errors)}`,
      );
    return answer?.result?.id;
  }

  signUrl(url: string, options: Parameters<NonNullable<CdnProvider['signUrl']>>[1]): string {
    const secret = this.#options.tokenSecret;
    invariant(secret, signingNotConfigured(this.name, 'tokenSecret'), 'NOA_CDN_SIGNING_NOT_CONFIGURED');
    invariant(
      options.startsAt === undefined && options.ipAddress === undefined,
      `${this.name}: Cloudflare's timed HMAC token carries only a timestamp; startsAt and ipAddress cannot be expressed`,
      'NOA_CDN_UNSUPPORTED',
    );
    const expires = checkSignOptions(options);
    const ttlMs = (this.#options.tokenTtlSeconds ?? 3600) * 1000;
    // The rule's message is everything of http.request.uri before the separator: path and query.
    const target = new URL(absoluteUrl(url, this.#options.baseUrl, this.name));
    const token = cloudflareToken(target.pathname + target.search, { secret, issuedAt: expires - ttlMs });
    return withQueryParam(url, this.#options.tokenParam ?? 'verify', token);
  }

  async close(): Promise<void> {}
}

/** Cloudflare: `purge_cache` by files, tags, hosts, prefixes or everything, within the plan's limits. */
export function cloudflare(options: CloudflareOptions): CdnProvider {
  return new CloudflareProvider(options);
}
