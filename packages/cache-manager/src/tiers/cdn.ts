import { invariant } from '@noa/core';
import { claimTier } from '../internal/claim-tier.js';
import type { CacheTier, TierContext } from '../tier.js';

/** The purge request this tier sends; the same shape as `@noa/cdn-manager`'s `cdn.purge(...)`. */
export interface CdnPurgeRequest {
  urls?: string[];
  tags?: string[];
  prefixes?: string[];
  everything?: boolean;
  soft?: boolean;
}

/**
 * What the CDN tier needs from a CDN client: a `@noa/cdn-manager` instance fits, or anything with
 * the same `purge`. A result with `ok: false` counts as failed and is retried.
 */
export interface CdnPurger {
  purge(request: CdnPurgeRequest): Promise<{ ok: boolean } | undefined>;
}

export interface CdnTierOptions {
  cdn: CdnPurger;
  /** The public URL(s) whose response holds `key`; undefined when the key is not served publicly. */
  urlFor?: (key: string) => string | string[] | undefined;
  /** Surrogate keys (Fastly/Akamai) or cache tags (Cloudflare) for cache tags. Default: the tags themselves. */
  surrogateKeysFor?: (tags: readonly string[]) => string[];
  /** Invalidations are collected this long and sent as one purge. Default 100. */
  batchMs?: number;
  /** A batch is sent early once it holds this many items. Default 500. */
  maxBatch?: number;
  /** Soft purge (mark stale) where the provider supports it. Default false. */
  soft?: boolean;
  /** `cache.clear()` purges everything on the CDN. Default false: the CDN may serve more than this cache. */
  purgeEverythingOnClear?: boolean;
  /** Attempts per batch before it is reported and dropped. Default 5. */
  attempts?: number;
  name?: string;
}

export interface CdnTier extends CacheTier {
  readonly kind: 'edge';
  surrogateKeysFor(tags: readonly string[]): string[];
  /** Sends what is queued now; resolves when the CDN answered (or gave up after its attempts). */
  flush(): Promise<void>;
  readonly pending: number;
}

interface Batch {
  urls: Set<string>;
  tags: Set<string>;
  everything: boolean;
}

const emptyBatch = (): Batch => ({ urls: new Set(), tags: new Set(), everything: false });

/**
 * The edge copy of public responses. It never reads from the CDN: when keys are set, deleted or
 * their tags invalidated, it purges the matching URLs and surrogate keys, batched, with retries.
 * Pair it with `cache.httpHeaders(key, { tags })` so the responses carry those surrogate keys.
 */
export function cdnTier(options: CdnTierOptions): CdnTier {
  const {
    cdn,
    urlFor,
    surrogateKeysFor = (tags) => [...tags],
    batchMs = 100,
    maxBatch = 500,
    soft = false,
    purgeEverythingOnClear = false,
    attempts = 5,
    name = 'cdn',
  } = options ?? ({} as CdnTierOptions);
  invariant(
    cdn && typeof cdn.purge === 'function',
    'cdnTier: cdn must have purge(request), e.g. a @noa/cdn-manager instance',
  );
  invariant(Number.isFinite(batchMs) && batchMs >= 0, 'cdnTier: batchMs must be a number >= 0');
  invariant(Number.isInteger(maxBatch) && maxBatch >= 1, 'cdnTier: maxBatch must be an integer >= 1');
  invariant(Number.isInteger(attempts) && attempts >= 1, 'cdnTier: attempts must be an integer >= 1');
  let context: TierContext | undefined;
  let batch = emptyBatch();
  let timer: NodeJS.Timeout | undefined;
  const sending = new Set<Promise<void>>();

  const size = (b: Batch) => b.urls.size + b.tags.size + (b.everything ? 1 : 0);

  const send = async (items: Batch) => {
    const request: CdnPurgeRequest = items.everything
      ? { everything: true }
      : {
          ...(items.urls.size ? { urls: [...items.urls] } : {}),
          ...(items.tags.size ? { tags: [...items.tags] } : {}),
        };
    if (soft) request.soft = true;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const result = await cdn.purge(request);
        if (result && result.ok === false)
          throw new Error(`CDN purge was not accepted: ${JSON.stringify(result)}`);
        return;
      } catch (error) {
        lastError = error;
        if (attempt < attempts)
          await new Promise((resolve) => setTimeout(resolve, batchMs * 2 ** attempt).unref());
      }
    }
    context?.onError(lastError, 'cdn.purge');
  };

  const flush = async () => {
    clearTimeout(timer);
    timer = undefined;
    if (size(batch) > 0) {
      const items = batch;
      batch = emptyBatch();
      const running = send(items);
      sending.add(running);
      void running.finally(() => sending.delete(running));
    }
    await Promise.all([...sending]);
  };

  const schedule = () => {
    if (size(batch) >= maxBatch) {
      void flush();
      return;
    }
    if (timer) return;
    timer = setTimeout(() => void flush(), batchMs);
    timer.unref();
  };

  return {
    name,
    kind: 'edge',
    surrogateKeysFor,
    flush,
    get pending() {
      return size(batch);
    },
    attach(ctx) {
      claimTier(context, name);
      context = ctx;
    },
    get: () => undefined,
    set: () => {},
    delete(keys) {
      for (const key of keys) {
        const urls = urlFor?.(key);
        if (urls === undefined) continue;
        for (const url of Array.isArray(urls) ? urls : [urls]) batch.urls.add(url);
      }
      if (size(batch) > 0) schedule();
    },
    clear() {
      if (!purgeEverythingOnClear) return;
      batch = { ...emptyBatch(), everything: true };
      schedule();
    },
    invalidateTags(tags) {
      for (const key of surrogateKeysFor(tags)) batch.tags.add(key);
      if (size(batch) > 0) schedule();
    },
    stats: () => ({ pending: size(batch) }),
    close: flush,
  };
}
