import type { RequestVerdict } from './request-limiter.js';

const TITLES = { 403: 'Forbidden', 429: 'Too Many Requests', 503: 'Service Unavailable' } as const;

/** The default body of a refused request: small JSON the client can act on. */
export function refusalBody(verdict: RequestVerdict): string {
  const status = verdict.statusCode as keyof typeof TITLES;
  return JSON.stringify(
    status === 403
      ? { error: TITLES[status] }
      : { error: TITLES[status], retryAfterMs: verdict.retryAfterMs },
  );
}
