import { NoaError } from '@noa/core';
import type { Clock } from '../clock.js';
import type { PlannedRequest, ProviderContext, ProviderPurgeResult, PurgeKind, PurgePlan } from '../types.js';
import { type RetryPolicy, withRetries } from './http.js';
import type { RateLimiter } from './rate-limiter.js';

export interface RunOptions {
  limiter?: RateLimiter;
  /** Requests in flight at once. */
  concurrency: number;
  retry: RetryPolicy;
  defaultRetryAfterMs?: number;
  /** Sends one planned request; returns the provider's id for it. */
  send: (request: PlannedRequest, signal?: AbortSignal) => Promise<string | undefined>;
  retryable?: (error: unknown) => boolean;
}

export const emptyCounts = (): Record<PurgeKind, number> => ({
  urls: 0,
  prefixes: 0,
  tags: 0,
  hosts: 0,
  everything: 0,
});

export function skippedResult(provider: string, reason: string, notes: string[] = []): ProviderPurgeResult {
  return {
    provider,
    ok: false,
    requests: 0,
    attempts: 0,
    purged: emptyCounts(),
    ids: [],
    failures: [],
    notes,
    skipped: reason,
    durationMs: 0,
  };
}

/** Refuses a plan the provider cannot carry out in full: a partial purge would leave stale content. */
export function assertSupported(plan: PurgePlan): void {
  if (plan.unsupported.length > 0)
    throw new NoaError(
      'NOA_CDN_UNSUPPORTED',
      `${plan.provider} cannot ${plan.unsupported.join('; ')}. Check capabilities() and send that part to a provider that can`,
    );
}

/**
 * Sends every planned request through the rate limiter with retries, `concurrency` at a time, and
 * reports what was purged and which batches failed (with their items, so nothing is silently lost).
 */
export async function runPlan(
  plan: PurgePlan,
  options: RunOptions,
  context: Partial<ProviderContext> & { clock: Clock },
): Promise<ProviderPurgeResult> {
  assertSupported(plan);
  const started = context.clock.now();
  const result: ProviderPurgeResult = {
    provider: plan.provider,
    ok: true,
    requests: 0,
    attempts: 0,
    purged: emptyCounts(),
    ids: [],
    failures: [],
    notes: [...plan.notes],
    durationMs: 0,
  };
  let next = 0;
  const worker = async () => {
    while (next < plan.requests.length) {
      const request = plan.requests[next++]!;
      if (context.signal?.aborted) {
        result.failures.push({ kind: request.kind, items: request.items, error: context.signal.reason });
        continue;
      }
      try {
        const id = await withRetries(
          async () => {
            await options.limiter?.acquire(request.cost, context.signal);
            context.onRequest?.(request);
            return options.send(request, context.signal);
          },
          options.retry,
          {
            clock: context.clock,
            signal: context.signal,
            defaultRetryAfterMs: options.defaultRetryAfterMs,
            onPause: (ms) => options.limiter?.pause(ms),
            onRetry: (info) => context.onRetry?.({ kind: request.kind, ...info }),
            onAttempt: () => {
              result.attempts++;
            },
          },
          options.retryable,
        );
        if (request.counts)
          for (const [kind, n] of Object.entries(request.counts)) result.purged[kind as PurgeKind] += n;
        else result.purged[request.kind] += request.kind === 'everything' ? 1 : request.items.length;
        if (id) result.ids.push(id);
      } catch (error) {
        result.failures.push({ kind: request.kind, items: request.items, error: error as Error });
      }
      result.requests++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  result.ok = result.failures.length === 0;
  result.durationMs = context.clock.now() - started;
  return result;
}
