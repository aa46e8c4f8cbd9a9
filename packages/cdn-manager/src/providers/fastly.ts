import { invariant } from '@noa/core';
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
import { type BucketSpec, RateLimiter } from '../internal/rate-limiter.js';
import { fastlyToken, withQueryParam } from '../signing/hmac-token.js';
import type { CdnProvider, PlannedRequest, ProviderCapabilities, PurgePlan } from '../types.js';

export { type FastlyTokenOptions, fastlyToken } from '../signing/hmac-token.js';

/** Fastly's documented batch size for surrogate-key purges. */
export const FASTLY_KEYS_PER_REQUEST = 256;

export interface FastlyOptions extends HttpProviderOptions {
  serviceId: string;
  /** An API token with the purge_select scope (purge_all for everything). */
  apiKey: string;
  /** Site origin for relative URLs: https://www.example.com */
  baseUrl?: string;
  /** Default https://api.fastly.com */
  apiBaseUrl?: string;
  /**
   * Client-side limit on purge requests. Fastly documents no fixed purge rate, so none by default;
   * 429 answers are still honoured (Retry-After).
   */
  rateLimit?: BucketSpec;
  /** Base64 secret of the token-validation VCL, for signUrl. */
  tokenSecret?: string;
  /** Query parameter carrying the token. Default 'token'. */
  tokenParam?: string;
}

class FastlyProvider implements CdnProvider {
  readonly name: string;
  readonly #options: FastlyOptions;
  readonly #limiter: RateLimiter | undefined;
  readonly #post: ReturnType<typeof jsonPoster>;
  readonly #apiBase: string;

  constructor(options: FastlyOptions) {
    checkProviderOptions(options, 'fastly');
    invariant(options.serviceId, 'fastly(): serviceId is required');
    invariant(options.apiKey, 'fastly(): apiKey is required (an API token with purge_select scope)');
    this.#options = options;
    this.name = options.name ?? 'fastly';
    this.#limiter = options.rateLimit
      ? new RateLimiter({ requests: options.rateLimit }, options.clock ?? systemClock)
      : undefined;
    this.#post = jsonPoster(this.name, options);
    this.#apiBase = apiBase(options.apiBaseUrl ?? 'https://api.fastly.com');
  }

  capabilities(): ProviderCapabilities {
    return {
      urls: true,
      prefixes: false,
      tags: true,
      hosts: false,
      everything: true,
      softPurge: true,
      signing: this.#options.tokenSecret ? ['fastly-token'] : [],
      limits: {
        itemsPerRequest: { urls: 1, tags: FASTLY_KEYS_PER_REQUEST },
        rateLimits: this.#options.rateLimit ? { requests: this.#options.rateLimit } : {},
      },
    };
  }

  plan(request: Parameters<CdnProvider['plan']>[0]): PurgePlan {
    const purge = normalizePurge(request);
    const plan: PurgePlan = { provider: this.name, requests: [], unsupported: [], notes: [] };
    for (const kind of requestedKinds(purge)) {
      if (kind === 'prefixes' || kind === 'hosts') {
        plan.unsupported.push(`purge by ${kind} (tag the responses with a Surrogate-Key and purge the key)`);
      } else if (kind === 'everything') {
        if (purge.soft) plan.notes.push('Fastly cannot soft-purge everything: purge_all is hard');
        plan.requests.push({ kind, items: ['*'], cost: { requests: 1 } });
      } else if (kind === 'urls') {
        // One URL per request is all the API takes.
        for (const url of purge.urls)
          plan.requests.push({
            kind,
            items: [absoluteUrl(url, this.#options.baseUrl, this.name)],
            cost: { requests: 1 },
          });
      } else {
        for (const batch of packBatches(purge.tags, { maxItems: FASTLY_KEYS_PER_REQUEST }).batches)
          plan.requests.push({ kind, items: batch, cost: { requests: 1 } });
      }
    }
    if (purge.soft && plan.requests.some((r) => r.kind !== 'everything'))
      plan.notes.push('soft purge (Fastly-Soft-Purge: 1)');
    return plan;
  }

  async purge(request: Parameters<CdnProvider['purge']>[0], context?: Parameters<CdnProvider['purge']>[1]) {
    const soft = request?.soft === true;
    return executePlan(
      this.#options,
      {
        plan: this.plan(request),
        limiter: this.#limiter,
        concurrency: this.#options.concurrency ?? 8,
        send: (planned, signal) => this.#send(planned, soft, signal),
      },
      request.signal,
      context,
    );
  }

  async #send(planned: PlannedRequest, soft: boolean, signal?: AbortSignal): Promise<string | undefined> {
    const o = this.#options;
    const service = `${this.#apiBase}/service/${encodeURIComponent(o.serviceId)}`;
    const headers: Record<string, string> = { 'fastly-key': o.apiKey, accept: 'application/json' };
    if (soft && planned.kind !== 'everything') headers['fastly-soft-purge'] = '1';
    let url: string;
    let body: string | undefined;
    if (planned.kind === 'everything') url = `${service}/purge_all`;
    else if (planned.kind === 'urls')
      url = `${this.#apiBase}/purge/${planned.items[0]!.replace(/^https?:\/\//, '')}`;
    else {
      url = `${service}/purge`;
      headers['content-type'] = 'application/json';
      body = JSON.stringify({ surrogate_keys: planned.items });
    }
    const answer = await this.#post(url, { headers, body, signal });
    // URL and purge_all answer { status, id }; key batches answer { key: purgeId, ... }.
    if (typeof answer?.id === 'string') return answer.id;
    return planned.kind === 'tags'
      ? planned.items
          .map((k) => answer?.[k])
          .filter(Boolean)
          .join(',')
      : undefined;
  }

  signUrl(url: string, options: Parameters<NonNullable<CdnProvider['signUrl']>>[1]): string {
    const secret = this.#options.tokenSecret;
    invariant(secret, signingNotConfigured(this.name, 'tokenSecret'), 'NOA_CDN_SIGNING_NOT_CONFIGURED');
    invariant(
      options.startsAt === undefined && options.ipAddress === undefined,
      `${this.name}: Fastly's URL token carries only an expiry; startsAt and ipAddress cannot be expressed`,
      'NOA_CDN_UNSUPPORTED',
    );
    const expires = checkSignOptions(options);
    const path = new URL(absoluteUrl(url, this.#options.baseUrl, this.name)).pathname;
    return withQueryParam(
      url,
      this.#options.tokenParam ?? 'token',
      fastlyToken(path, { secret, expiresAt: expires }),
    );
  }

  async close(): Promise<void> {}
}

/** Fastly: purge by URL and by surrogate key (batches of 256), soft purge, purge_all. */
export function fastly(options: FastlyOptions): CdnProvider {
  return new FastlyProvider(options);
}
