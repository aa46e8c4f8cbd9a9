import { randomUUID } from 'node:crypto';
import {
  CloudFrontClient,
  type CloudFrontClientConfig,
  CreateInvalidationCommand,
  GetInvalidationCommand,
  ListInvalidationsCommand,
} from '@aws-sdk/client-cloudfront';
import { invariant, NoaError } from '@noa/core';
import { type Clock, systemClock } from '../clock.js';
import { isRetryable } from '../internal/http.js';
import { normalizePurge, pathOf, requestedKinds } from '../internal/normalize.js';
import {
  checkProviderOptions,
  checkSignOptions,
  executePlan,
  type ProviderOptions,
  signingNotConfigured,
} from '../internal/provider.js';
import { signCloudFrontUrl } from '../signing/cloudfront.js';
import type { CdnProvider, PlannedRequest, ProviderCapabilities, PurgeKind, PurgePlan } from '../types.js';

export {
  type CloudFrontSigningOptions,
  cloudFrontBase64,
  signCloudFrontCookies,
  signCloudFrontPolicy,
  signCloudFrontUrl,
} from '../signing/cloudfront.js';

/** CloudFront's documented limits on invalidations in progress per distribution. */
export const CLOUDFRONT_MAX_PATHS_IN_PROGRESS = 3_000;
export const CLOUDFRONT_MAX_WILDCARDS_IN_PROGRESS = 15;

export interface CloudFrontOptions extends ProviderOptions {
  distributionId: string;
  /** Your CloudFrontClient. Without it one is created from `clientConfig`. */
  client?: CloudFrontClient;
  /** Config for the client created here (region, credentials, endpoint). Its own retries are off: ours apply. */
  clientConfig?: CloudFrontClientConfig;
  /** Individual paths in progress at once. Default 3,000 (the documented limit). */
  maxPathsInProgress?: number;
  /** Wildcard paths in progress at once. Default 15 (the documented limit). */
  maxWildcardsInProgress?: number;
  /** How often to ask whether queued-behind invalidations completed. Default 10 000. */
  pollIntervalMs?: number;
  /** Count invalidations other clients have in progress before the first purge. Default true. */
  syncInProgress?: boolean;
  /** For signUrl: the public key id and the matching PEM private key. */
  keyPairId?: string;
  privateKey?: string;
}

interface InFlight {
  paths: number;
  wildcards: number;
}

/** A path with `*` anywhere but the end is refused: CloudFront only honours a trailing wildcard. */
function checkPath(path: string): void {
  const star = path.indexOf('*');
  if (star !== -1 && star !== path.length - 1)
    throw new NoaError(
      'NOA_CDN_INVALID_PURGE',
      `CloudFront only allows * at the end of a path, got "${path}"; use a prefix ending in * instead`,
    );
}

class CloudFrontProvider implements CdnProvider {
  readonly name: string;
  readonly #options: CloudFrontOptions;
  readonly #client: CloudFrontClient;
  readonly #ownsClient: boolean;
  readonly #clock: Clock;
  readonly #maxPaths: number;
  readonly #maxWildcards: number;
  readonly #inFlight = new Map<string, InFlight>();
  /** Batches past #reserve whose CreateInvalidation has not answered yet (concurrent purges count them). */
  readonly #sending = new Set<InFlight>();
  /** Caller references by batch, so a retried batch is recognised by CloudFront, not duplicated. */
  readonly #references = new WeakMap<PlannedRequest, string>();
  #synced = false;

  constructor(options: CloudFrontOptions) {
    checkProviderOptions(options, 'cloudfront');
    invariant(options.distributionId, 'cloudfront(): distributionId is required');
    this.#options = options;
    this.name = options.name ?? 'cloudfront';
    this.#ownsClient = !options.client;
    this.#client =
      options.client ??
      new CloudFrontClient({ region: 'us-east-1', maxAttempts: 1, ...options.clientConfig });
    this.#clock = options.clock ?? systemClock;
    this.#maxPaths = options.maxPathsInProgress ?? CLOUDFRONT_MAX_PATHS_IN_PROGRESS;
    this.#maxWildcards = options.maxWildcardsInProgress ?? CLOUDFRONT_MAX_WILDCARDS_IN_PROGRESS;
    invariant(
      this.#maxPaths >= 1 && this.#maxWildcards >= 1,
      'cloudfront(): in-progress limits must be >= 1',
    );
  }

  capabilities(): ProviderCapabilities {
    return {
      urls: true,
      prefixes: true,
      tags: false,
      hosts: false,
      everything: true,
      softPurge: false,
      signing:
        this.#options.keyPairId && this.#options.privateKey ? ['cloudfront-canned', 'cloudfront-custom'] : [],
      limits: {
        itemsPerRequest: { urls: this.#maxPaths, prefixes: this.#maxWildcards },
        rateLimits: {},
        other: { pathsInProgress: this.#maxPaths, wildcardsInProgress: this.#maxWildcards },
      },
    };
  }

  plan(request: Parameters<CdnProvider['plan']>[0]): PurgePlan {
    const purge = normalizePurge(request);
    const plan: PurgePlan = { provider: this.name, requests: [], unsupported: [], notes: [] };
    if (purge.soft) plan.notes.push('CloudFront has no soft purge: invalidated');
    const paths: string[] = [];
    const wildcards: { path: string; kind: PurgeKind }[] = [];
    for (const kind of requestedKinds(purge)) {
      if (kind === 'tags' || kind === 'hosts')
        plan.unsupported.push(`purge by ${kind} (invalidate paths instead)`);
      else if (kind === 'everything') wildcards.push({ path: '/*', kind });
      else if (kind === 'prefixes') {
        plan.notes.push('prefixes invalidated as wildcard paths (prefix*)');
        for (const prefix of purge.prefixes) {
          const path = pathOf(prefix);
          checkPath(path);
          wildcards.push({ path: path.endsWith('*') ? path : `${path}*`, kind });
        }
      } else
        for (const url of purge.urls) {
          const path = pathOf(url);
          checkPath(path);
          if (path.endsWith('*')) wildcards.push({ path, kind });
          else paths.push(path);
        }
    }
    // The two in-progress limits are independent, so each request fills both: the fewest requests
    // is max(paths / 3,000, wildcards / 15).
    const count = Math.max(
      Math.ceil(paths.length / this.#maxPaths),
      Math.ceil(wildcards.length / this.#maxWildcards),
    );
    for (let i = 0; i < count; i++) {
      const p = paths.slice(i * this.#maxPaths, (i + 1) * this.#maxPaths);
      const w = wildcards.slice(i * this.#maxWildcards, (i + 1) * this.#maxWildcards);
      const counts: Partial<Record<PurgeKind, number>> = { urls: p.length };
      for (const { kind } of w) counts[kind] = (counts[kind] ?? 0) + 1;
      plan.requests.push({
        kind: p.length > 0 ? 'urls' : w[0]!.kind,
        items: [...p, ...w.map((x) => x.path)],
        cost: { paths: p.length, wildcards: w.length },
        counts,
      });
    }
    return plan;
  }

  async purge(request: Parameters<CdnProvider['purge']>[0], context?: Parameters<CdnProvider['purge']>[1]) {
    return executePlan(
      this.#options,
      {
        plan: this.plan(request),
        // Sequential: each batch may have to wait for earlier invalidations to complete.
        concurrency: 1,
        retryable: (error) => isRetryable(error) || isCloudFrontRetryable(error),
        send: (planned, signal) => this.#send(planned, signal),
      },
      request.signal,
      context,
    );
  }

  async #send(planned: PlannedRequest, signal?: AbortSignal): Promise<string | undefined> {
    const paths = planned.cost.paths ?? 0;
    const wildcards = planned.cost.wildcards ?? 0;
    const reservation = await this.#reserve(paths, wildcards, signal);
    try {
      let reference = this.#references.get(planned);
      if (!reference) this.#references.set(planned, (reference = `noa-${Date.now()}-${randomUUID()}`));
      const answer = await this.#client.send(
        new CreateInvalidationCommand({
          DistributionId: this.#options.distributionId,
          InvalidationBatch: {
            CallerReference: reference,
            Paths: { Quantity: planned.items.length, Items: planned.items },
          },
        }),
        { abortSignal: signal as never },
      );
      const id = answer.Invalidation?.Id;
      if (id && answer.Invalidation?.Status !== 'Completed') this.#inFlight.set(id, reservation);
      return id;
    } finally {
      this.#sending.delete(reservation);
    }
  }

  /**
   * Waits until the batch fits under both in-progress limits, polling what is in flight, and
   * reserves its room at once (no await between the check and the reservation), so concurrent
   * purges on this provider never send more than the limits together.
   */
  async #reserve(paths: number, wildcards: number, signal?: AbortSignal): Promise<InFlight> {
    if (!this.#synced && this.#options.syncInProgress !== false) {
      await this.#syncInProgress(signal);
      this.#synced = true;
    }
    const pollMs = this.#options.pollIntervalMs ?? 10_000;
    for (;;) {
      let usedPaths = 0;
      let usedWildcards = 0;
      for (const f of [...this.#inFlight.values(), ...this.#sending]) {
        usedPaths += f.paths;
        usedWildcards += f.wildcards;
      }
      if (usedPaths + paths <= this.#maxPaths && usedWildcards + wildcards <= this.#maxWildcards) {
        const reservation = { paths, wildcards };
        this.#sending.add(reservation);
        return reservation;
      }
      await this.#clock.sleep(pollMs, signal);
      await this.#pollInFlight(signal);
    }
  }

  async #pollInFlight(signal?: AbortSignal): Promise<void> {
    for (const id of [...this.#inFlight.keys()]) {
      const answer = await this.#client.send(
        new GetInvalidationCommand({ DistributionId: this.#options.distributionId, Id: id }),
        { abortSignal: signal as never },
      );
      if (answer.Invalidation?.Status === 'Completed') this.#inFlight.delete(id);
    }
  }

  /** Counts invalidations already in progress (another deploy's), so the limits hold account-wide. */
  async #syncInProgress(signal?: AbortSignal): Promise<void> {
    const list = await this.#client.send(
      new ListInvalidationsCommand({ DistributionId: this.#options.distributionId, MaxItems: 100 }),
      { abortSignal: signal as never },
    );
    for (const summary of list.InvalidationList?.Items ?? []) {
      if (summary.Status === 'Completed' || !summary.Id || this.#inFlight.has(summary.Id)) continue;
      const detail = await this.#client.send(
        new GetInvalidationCommand({ DistributionId: this.#options.distributionId, Id: summary.Id }),
        { abortSignal: signal as never },
      );
      const items = detail.Invalidation?.InvalidationBatch?.Paths?.Items ?? [];
      const wildcards = items.filter((p) => p.endsWith('*')).length;
      this.#inFlight.set(summary.Id, { paths: items.length - wildcards, wildcards });
    }
  }

  signUrl(url: string, options: Parameters<NonNullable<CdnProvider['signUrl']>>[1]): string {
    const { keyPairId, privateKey } = this.#options;
    invariant(
      keyPairId && privateKey,
      signingNotConfigured(this.name, 'keyPairId and privateKey'),
      'NOA_CDN_SIGNING_NOT_CONFIGURED',
    );
    checkSignOptions(options);
    return signCloudFrontUrl(url, { keyPairId, privateKey, ...options });
  }

  async close(): Promise<void> {
    if (this.#ownsClient) this.#client.destroy();
  }
}

/** SDK errors worth waiting for: the in-progress limit, throttling, and server faults. */
function isCloudFrontRetryable(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (e?.name === 'TooManyInvalidationsInProgress' || e?.name === 'Throttling' || e?.$retryable) return true;
  const status = e?.$metadata?.httpStatusCode ?? 0;
  return status === 429 || status >= 500;
}

/**
 * CloudFront: CreateInvalidation with a unique CallerReference per batch, queued so the documented
 * 3,000 paths / 15 wildcards in progress are never exceeded.
 */
export function cloudfront(options: CloudFrontOptions): CdnProvider {
  return new CloudFrontProvider(options);
}
