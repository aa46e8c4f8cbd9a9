import { invariant } from '@noa/core';
import { systemClock } from '../clock.js';
import { jsonItemBytes, packBatches } from '../internal/batch.js';
import { absoluteUrl, appendQuery, normalizePurge, pathOf, requestedKinds } from '../internal/normalize.js';
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
import { type EdgeAuthOptions, edgeAuthToken } from '../signing/edge-auth.js';
import { type EdgeGridCredentials, signEdgeGrid } from '../signing/edgegrid.js';
import type { CdnProvider, PlannedRequest, ProviderCapabilities, PurgeKind, PurgePlan } from '../types.js';

export { type EdgeAuthOptions, edgeAuthToken } from '../signing/edge-auth.js';
export {
  type EdgeGridCredentials,
  type EdgeGridOptions,
  type EdgeGridRequest,
  edgeGridTimestamp,
  signEdgeGrid,
} from '../signing/edgegrid.js';

/** Fast Purge's documented body limit (a larger body gets 413). */
export const AKAMAI_MAX_BODY_BYTES = 50_000;

/** Fast Purge's documented token buckets ("Rate limiting"), shared by every client of the account. */
export const akamaiRateLimits: Record<'requests' | 'urls' | 'cpcodes' | 'tags', BucketSpec> = {
  requests: { capacity: 100, refillPerSecond: 50 },
  urls: { capacity: 10_000, refillPerSecond: 12_000 / 60 },
  cpcodes: { capacity: 300, refillPerSecond: 30 / 60 },
  tags: { capacity: 5_000, refillPerSecond: 500 / 60 },
};

export interface AkamaiOptions extends HttpProviderOptions, EdgeGridCredentials {
  /** The API client's host from .edgerc (akab-xxx.luna.akamaiapis.net) or a full base URL. */
  host: string;
  /** Default 'production'. */
  network?: 'production' | 'staging';
  /** Site origin for relative URLs: https://www.example.com */
  baseUrl?: string;
  /** CP codes that hold the whole site: `everything: true` purges these. Without them it is refused. */
  everythingCpCodes?: number[];
  /** Overrides of the documented buckets (they are per account: lower them if other clients purge too). */
  rateLimits?: Partial<typeof akamaiRateLimits>;
  /** EdgeAuth (token auth 2.0) settings for signUrl. */
  edgeAuth?: Pick<EdgeAuthOptions, 'key' | 'algorithm' | 'salt' | 'escapeEarly'> & {
    /** Default '__token__'. */
    tokenName?: string;
    /** Sign an ACL (e.g. '/videos/*') instead of the exact URL path. */
    acl?: string | string[];
  };
}

const typeOf: Partial<Record<PurgeKind, { type: string; bucket: string }>> = {
  urls: { type: 'url', bucket: 'urls' },
  tags: { type: 'tag', bucket: 'tags' },
  everything: { type: 'cpcode', bucket: 'cpcodes' },
};

const OVERHEAD_BYTES = Buffer.byteLength('{"objects":[]}');

class AkamaiProvider implements CdnProvider {
  readonly name: string;
  readonly #options: AkamaiOptions;
  readonly #buckets: typeof akamaiRateLimits;
  readonly #limiter: RateLimiter;
  readonly #post: ReturnType<typeof jsonPoster>;
  readonly #apiBase: string;

  constructor(options: AkamaiOptions) {
    checkProviderOptions(options, 'akamai');
    invariant(
      options.host && options.clientToken && options.clientSecret && options.accessToken,
      'akamai(): host, clientToken, clientSecret and accessToken are required (the [default] section of .edgerc)',
    );
    if (options.everythingCpCodes)
      invariant(
        options.everythingCpCodes.every((c) => Number.isInteger(c) && c > 0),
        'akamai(): everythingCpCodes must be positive integers',
      );
    this.#options = options;
    this.name = options.name ?? 'akamai';
    this.#buckets = { ...akamaiRateLimits, ...options.rateLimits };
    this.#limiter = new RateLimiter(this.#buckets, options.clock ?? systemClock);
    this.#post = jsonPoster(this.name, options);
    this.#apiBase = apiBase(options.host);
  }

  capabilities(): ProviderCapabilities {
    return {
      urls: true,
      prefixes: false,
      tags: true,
      hosts: false,
      everything: (this.#options.everythingCpCodes?.length ?? 0) > 0,
      softPurge: true,
      signing: this.#options.edgeAuth ? ['akamai-edgeauth'] : [],
      limits: {
        itemsPerRequest: {
          urls: this.#buckets.urls.capacity,
          tags: this.#buckets.tags.capacity,
          everything: this.#buckets.cpcodes.capacity,
        },
        maxBodyBytes: AKAMAI_MAX_BODY_BYTES,
        rateLimits: { ...this.#buckets },
      },
    };
  }

  plan(request: Parameters<CdnProvider['plan']>[0]): PurgePlan {
    const purge = normalizePurge(request);
    const plan: PurgePlan = { provider: this.name, requests: [], unsupported: [], notes: [] };
    plan.notes.push(purge.soft ? 'soft purge (invalidate)' : 'hard purge (delete)');
    for (const kind of requestedKinds(purge)) {
      const spec = typeOf[kind];
      if (!spec) {
        plan.unsupported.push(`purge by ${kind} (Fast Purge takes URLs, cache tags and CP codes)`);
        continue;
      }
      let items: string[];
      if (kind === 'everything') {
        const cpCodes = this.#options.everythingCpCodes ?? [];
        if (cpCodes.length === 0) {
          plan.unsupported.push(
            'purge everything without everythingCpCodes (the CP codes that hold the site)',
          );
          continue;
        }
        plan.notes.push(`everything mapped to CP codes ${cpCodes.join(', ')}`);
        items = cpCodes.map(String);
      } else {
        items =
          kind === 'urls'
            ? purge.urls.map((u) => absoluteUrl(u, this.#options.baseUrl, this.name))
            : purge.tags;
      }
      // One object type per request; as many objects as 50,000 bytes and the type's bucket allow.
      const { batches, tooLarge } = packBatches(items, {
        maxItems: (this.#buckets as Record<string, BucketSpec>)[spec.bucket]!.capacity,
        maxBytes: AKAMAI_MAX_BODY_BYTES,
        overheadBytes: OVERHEAD_BYTES,
        itemBytes: jsonItemBytes,
      });
      if (tooLarge.length > 0)
        plan.unsupported.push(`purge ${tooLarge.length} ${kind} longer than the body limit`);
      for (const batch of batches)
        plan.requests.push({ kind, items: batch, cost: { requests: 1, [spec.bucket]: batch.length } });
    }
    return plan;
  }

  async purge(request: Parameters<CdnProvider['purge']>[0], context?: Parameters<CdnProvider['purge']>[1]) {
    const action = request?.soft ? 'invalidate' : 'delete';
    return executePlan(
      this.#options,
      {
        plan: this.plan(request),
        limiter: this.#limiter,
        concurrency: this.#options.concurrency ?? 4,
        // The 429 page says: wait five seconds, then retry.
        defaultRetryAfterMs: 5_000,
        send: (planned, signal) => this.#send(planned, action, signal),
      },
      request.signal,
      context,
    );
  }

  async #send(planned: PlannedRequest, action: string, signal?: AbortSignal): Promise<string | undefined> {
    const o = this.#options;
    const url = `${this.#apiBase}/ccu/v3/${action}/${typeOf[planned.kind]!.type}/${o.network ?? 'production'}`;
    const objects = planned.kind === 'everything' ? planned.items.map(Number) : planned.items;
    const body = JSON.stringify({ objects });
    const authorization = signEdgeGrid(
      o,
      { method: 'POST', url, body },
      { maxBodyBytes: AKAMAI_MAX_BODY_BYTES },
    );
    const answer = await this.#post(url, {
      headers: { authorization, 'content-type': 'application/json' },
      body,
      signal,
    });
    return answer?.purgeId;
  }

  signUrl(url: string, options: Parameters<NonNullable<CdnProvider['signUrl']>>[1]): string {
    const edgeAuth = this.#options.edgeAuth;
    invariant(
      edgeAuth,
      signingNotConfigured(this.name, 'edgeAuth: { key }'),
      'NOA_CDN_SIGNING_NOT_CONFIGURED',
    );
    const expires = checkSignOptions(options);
    const { tokenName = '__token__', acl, ...rest } = edgeAuth;
    const token = edgeAuthToken({
      ...rest,
      ...(acl === undefined ? { url: pathOf(url) } : { acl }),
      startTime: options.startsAt === undefined ? undefined : new Date(options.startsAt),
      endTime: new Date(expires),
      ipAddress: options.ipAddress,
    });
    return appendQuery(url, `${tokenName}=${token}`);
  }

  async close(): Promise<void> {}
}

/**
 * Akamai Fast Purge (CCU v3): URLs, cache tags and CP codes, EdgeGrid-signed, within the body limit
 * and the account's token buckets.
 */
export function akamai(options: AkamaiOptions): CdnProvider {
  return new AkamaiProvider(options);
}
