import { type BackoffOptions, backoffDelay, NoaError } from '@noa/core';
import type { Clock } from '../clock.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** An HTTP answer that is not a success; `retryAfterMs` from the Retry-After header when present. */
export class CdnHttpError extends NoaError {
  readonly status: number;
  readonly retryAfterMs: number | undefined;
  readonly body: string;

  constructor(provider: string, status: number, body: string, retryAfterMs?: number) {
    super(
      status === 401 || status === 403 ? 'NOA_CDN_AUTH_FAILED' : 'NOA_CDN_REQUEST_FAILED',
      `${provider} answered HTTP ${status}: ${body.slice(0, 300)}${
        status === 401 || status === 403 ? ' (check the credentials and their purge permission)' : ''
      }`,
    );
    this.status = status;
    this.retryAfterMs = retryAfterMs;
    this.body = body;
  }
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

export interface RetryPolicy {
  /** Attempts per request, the first included. Default 5. */
  attempts?: number;
  /** Backoff between attempts (core's backoffDelay). Default exponential from 500 ms, full jitter, max 30 s. */
  backoff?: BackoffOptions;
}

export interface RetryContext {
  clock: Clock;
  signal?: AbortSignal;
  /** Used when a 429 carries no Retry-After (Akamai documents "wait five seconds"). */
  defaultRetryAfterMs?: number;
  /** Told of a server-imposed pause so other requests wait too. */
  onPause?: (ms: number) => void;
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  onAttempt?: () => void;
}

/** Whether an error is worth another attempt: 429, 5xx, network errors and timeouts. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof CdnHttpError) return error.status === 429 || error.status >= 500;
  if (error instanceof NoaError) return error.code === 'NOA_TIMEOUT';
  return error instanceof TypeError; // fetch's network failures
}

/**
 * Runs `fn` until it succeeds, fails for good, or attempts run out. Waits the larger of the backoff
 * and the server's Retry-After, so a 429 is never retried early.
 */
export async function withRetries<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  context: RetryContext,
  retryable: (error: unknown) => boolean = isRetryable,
): Promise<T> {
  const attempts = policy.attempts ?? 5;
  const backoff: BackoffOptions = policy.backoff ?? { delayMs: 500, maxDelayMs: 30_000, jitter: 'full' };
  let previous: number | undefined;
  for (let attempt = 1; ; attempt++) {
    context.onAttempt?.();
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts || context.signal?.aborted || !retryable(error)) throw error;
      const status = error instanceof CdnHttpError ? error.status : 0;
      const serverMs =
        (error as { retryAfterMs?: number }).retryAfterMs ??
        (status === 429 ? context.defaultRetryAfterMs : undefined);
      if (serverMs !== undefined) context.onPause?.(serverMs);
      const delayMs = Math.max(serverMs ?? 0, backoffDelay(backoff, attempt, previous));
      previous = delayMs;
      context.onRetry?.({ attempt, delayMs, error });
      await context.clock.sleep(delayMs, context.signal);
    }
  }
}

/**
 * One JSON request: throws CdnHttpError on a non-2xx answer, NOA_TIMEOUT after `timeoutMs`.
 */
export async function requestJson(
  provider: string,
  fetchImpl: FetchLike,
  url: string,
  init: RequestInit & { timeoutMs?: number; signal?: AbortSignal },
  nowMs: number,
): Promise<{ status: number; headers: Headers; body: any }> {
  const { timeoutMs = 30_000, signal, ...rest } = init;
  const timeout = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetchImpl(url, {
      ...rest,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (error) {
    if (timeout.aborted && !signal?.aborted)
      throw new NoaError('NOA_TIMEOUT', `${provider}: no answer within ${timeoutMs} ms`, { cause: error });
    throw error;
  }
  const text = await response.text();
  if (!response.ok) {
    throw new CdnHttpError(
      provider,
      response.status,
      text,
      parseRetryAfter(response.headers.get('retry-after'), nowMs),
    );
  }
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    // Some endpoints answer plain text; keep it as is.
  }
  return { status: response.status, headers: response.headers, body };
}
