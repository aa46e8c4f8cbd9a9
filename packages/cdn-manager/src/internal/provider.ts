import { invariant } from '@noa/core';
import { type Clock, systemClock } from '../clock.js';
import type {
  PlannedRequest,
  ProviderContext,
  ProviderPurgeResult,
  PurgePlan,
  SignUrlOptions,
} from '../types.js';
import { type FetchLike, type RetryPolicy, requestJson } from './http.js';
import type { RateLimiter } from './rate-limiter.js';
import { runPlan } from './runner.js';

/** Options every provider takes. */
export interface ProviderOptions {
  /** Name in results and for `signUrl({ provider })`. Default the provider type. */
  name?: string;
  /** Clock for rate limits and retries; inject a simulated one to test backlogs. */
  clock?: Clock;
  /** Attempts and backoff on 429 / 5xx / network errors. Default 5 attempts, exponential from 500 ms. */
  retry?: RetryPolicy;
  /** Requests in flight at once. */
  concurrency?: number;
}

/** Options of the providers that speak HTTP+JSON through fetch. */
export interface HttpProviderOptions extends ProviderOptions {
  /** The fetch to use (default globalThis.fetch); tests and proxies inject their own. */
  fetch?: FetchLike;
  /** Per-request timeout. Default 30 000. */
  timeoutMs?: number;
}

/** POSTs to a provider's API with its fetch, timeout and clock; throws CdnHttpError on non-2xx. */
export function jsonPoster(provider: string, options: HttpProviderOptions) {
  const fetchImpl: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
  const clock = options.clock ?? systemClock;
  return async (
    url: string,
    init: { headers: Record<string, string>; body?: string; signal?: AbortSignal },
  ): Promise<any> => {
    const answer = await requestJson(
      provider,
      fetchImpl,
      url,
      { method: 'POST', ...init, timeoutMs: options.timeoutMs },
      clock.now(),
    );
    return answer.body;
  };
}

/** An API base URL without a trailing slash; a bare host gets https://. */
export const apiBase = (value: string): string =>
  (/^https?:\/\//.test(value) ? value : `https://${value}`).replace(/\/$/, '');

export function checkProviderOptions(options: ProviderOptions, type: string): void {
  invariant(options && typeof options === 'object', `${type}(): pass an options object`);
  if (options.concurrency !== undefined)
    invariant(
      Number.isInteger(options.concurrency) && options.concurrency >= 1,
      `${type}(): concurrency must be an integer >= 1`,
    );
}

export interface PurgeRunner {
  plan: PurgePlan;
  limiter?: RateLimiter;
  concurrency: number;
  defaultRetryAfterMs?: number;
  retryable?: (error: unknown) => boolean;
  send: (request: PlannedRequest, signal?: AbortSignal) => Promise<string | undefined>;
}

/** Runs a provider's plan with its options and the caller's context (signal, hooks). */
export function executePlan(
  options: ProviderOptions,
  runner: PurgeRunner,
  signal: AbortSignal | undefined,
  context: Partial<ProviderContext> = {},
): Promise<ProviderPurgeResult> {
  const clock = context.clock ?? options.clock ?? systemClock;
  return runPlan(
    runner.plan,
    {
      limiter: runner.limiter,
      concurrency: runner.concurrency,
      retry: options.retry ?? {},
      defaultRetryAfterMs: runner.defaultRetryAfterMs,
      retryable: runner.retryable,
      send: runner.send,
    },
    { ...context, clock, signal: signal ?? context.signal },
  );
}

export const signingNotConfigured = (provider: string, what: string) =>
  `${provider}: signUrl needs ${what} in the provider options`;

export function checkSignOptions(options: SignUrlOptions): number {
  invariant(
    options && (options.expiresAt instanceof Date || typeof options.expiresAt === 'number'),
    'signUrl: expiresAt (a Date or epoch ms) is required',
    'NOA_CDN_INVALID_SIGNING_OPTION',
  );
  const expires = options.expiresAt instanceof Date ? options.expiresAt.getTime() : options.expiresAt;
  invariant(
    Number.isFinite(expires),
    'signUrl: expiresAt is not a valid time',
    'NOA_CDN_INVALID_SIGNING_OPTION',
  );
  return expires;
}
