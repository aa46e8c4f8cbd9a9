import {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  createCircuitBreaker,
  invariant,
  type Logger,
  type Metrics,
  NoaError,
  noopLogger,
  noopMetrics,
  TypedEventEmitter,
} from '@noa/core';
import { type Clock, systemClock } from './clock.js';
import { normalizePurge } from './internal/normalize.js';
import { skippedResult } from './internal/runner.js';
import type {
  CdnProvider,
  PlannedRequest,
  ProviderCapabilities,
  ProviderPurgeResult,
  PurgeKind,
  PurgePlan,
  PurgeRequest,
  PurgeResult,
  SignUrlOptions,
} from './types.js';

export interface CdnManagerOptions {
  providers: CdnProvider[];
  /**
   * 'all' (default): every provider purges, results per provider. 'failover': providers in order,
   * the first that purges successfully serves; unhealthy ones (open circuit) are skipped.
   */
  mode?: 'all' | 'failover';
  /** In 'all' mode, what to do when a provider cannot do part of a purge. Default 'throw' (before sending anything). */
  onUnsupported?: 'throw' | 'skip';
  /** Circuit breaker per provider (failover mode). Default: open after 3 failed purges, retry after 30 s. */
  breaker?: Omit<CircuitBreakerOptions, 'name' | 'now'>;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
}

export type CdnManagerEvents = {
  /** A purge request is about to be sent. */
  request: [info: { provider: string; kind: PurgeKind; items: number }];
  retry: [info: { provider: string; kind: PurgeKind; attempt: number; delayMs: number; error: unknown }];
  /** A provider finished (or was skipped). */
  result: [result: ProviderPurgeResult];
  /** Failover moved past a provider. */
  failover: [info: { from: string; reason: string }];
};

export interface CdnManager extends TypedEventEmitter<CdnManagerEvents> {
  purge(request: PurgeRequest): Promise<PurgeResult>;
  /** What each provider would send for `request`, without sending. */
  plan(request: PurgeRequest): PurgePlan[];
  capabilities(): Record<string, ProviderCapabilities>;
  /** A signed URL in the form of `provider` (default: the first provider that can sign). */
  signUrl(url: string, options: SignUrlOptions & { provider?: string }): string;
  /** Circuit state per provider. */
  health(): Record<string, CircuitState>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

class PurgeFailed extends NoaError {
  constructor(readonly result: ProviderPurgeResult) {
    super(
      'NOA_CDN_PURGE_FAILED',
      `${result.provider}: ${result.failures.length} purge request(s) failed: ${result.failures[0]?.error.message}`,
    );
  }
}

class Manager extends TypedEventEmitter<CdnManagerEvents> implements CdnManager {
  readonly #providers: CdnProvider[];
  readonly #mode: 'all' | 'failover';
  readonly #onUnsupported: 'throw' | 'skip';
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #counters;
  #closed = false;

  constructor(options: CdnManagerOptions) {
    super();
    invariant(options && Array.isArray(options.providers), 'createCdnManager: pass { providers: [...] }');
    invariant(options.providers.length > 0, 'createCdnManager: at least one provider is required');
    const names = options.providers.map((p) => p.name);
    invariant(
      new Set(names).size === names.length,
      `createCdnManager: provider names must be unique (got ${names.join(', ')}); pass name: to tell two apart`,
    );
    const mode = options.mode ?? 'all';
    invariant(mode === 'all' || mode === 'failover', `createCdnManager: mode must be 'all' or 'failover'`);
    this.#providers = options.providers;
    this.#mode = mode;
    this.#onUnsupported = options.onUnsupported ?? 'throw';
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? noopLogger;
    const now = () => this.#clock.now();
    for (const provider of this.#providers)
      this.#breakers.set(
        provider.name,
        createCircuitBreaker({
          failureThreshold: 3,
          halfOpenAfterMs: 30_000,
          ...options.breaker,
          name: provider.name,
          now,
        }),
      );
    const metrics = options.metrics ?? noopMetrics;
    this.#counters = {
      requests: metrics.counter({
        name: 'cdn_purge_requests_total',
        help: 'Purge requests sent',
        labelNames: ['provider'],
      }),
      items: metrics.counter({
        name: 'cdn_purge_items_total',
        help: 'Items purged',
        labelNames: ['provider', 'kind'],
      }),
      failures: metrics.counter({
        name: 'cdn_purge_failures_total',
        help: 'Purge requests that failed after retries',
        labelNames: ['provider'],
      }),
    };
  }

  plan(request: PurgeRequest): PurgePlan[] {
    normalizePurge(request);
    return this.#providers.map((p) => p.plan(request));
  }

  capabilities(): Record<string, ProviderCapabilities> {
    return Object.fromEntries(this.#providers.map((p) => [p.name, p.capabilities()]));
  }

  health(): Record<string, CircuitState> {
    return Object.fromEntries([...this.#breakers].map(([name, b]) => [name, b.state]));
  }

  purge(request: PurgeRequest): Promise<PurgeResult> {
    if (this.#closed)
      return Promise.reject(new NoaError('NOA_CDN_CLOSED', 'purge after close(); create a new manager'));
    const work = this.#mode === 'all' ? this.#purgeAll(request) : this.#purgeFailover(request);
    this.#inFlight.add(work);
    return work.finally(() => this.#inFlight.delete(work));
  }

  async #purgeAll(request: PurgeRequest): Promise<PurgeResult> {
    // Plan first: an unsupported part is refused before any provider has purged anything.
    const plans = this.plan(request);
    const unsupported = plans.filter((p) => p.unsupported.length > 0);
    if (unsupported.length > 0 && this.#onUnsupported === 'throw')
      throw new NoaError(
        'NOA_CDN_UNSUPPORTED',
        unsupported.map((p) => `${p.provider} cannot ${p.unsupported.join('; ')}`).join('. ') +
          ". Check capabilities(), or pass onUnsupported: 'skip'",
      );
    const results = await Promise.all(
      this.#providers.map(async (provider, i) => {
        const plan = plans[i]!;
        if (plan.unsupported.length > 0)
          return this.#report(
            skippedResult(provider.name, `cannot ${plan.unsupported.join('; ')}`, plan.notes),
          );
        try {
          return this.#report(await provider.purge(request, this.#context(provider)));
        } catch (error) {
          return this.#report(this.#failedResult(provider.name, error));
        }
      }),
    );
    return { ok: results.every((r) => r.ok), mode: 'all', providers: results };
  }

  async #purgeFailover(request: PurgeRequest): Promise<PurgeResult> {
    normalizePurge(request);
    const results: ProviderPurgeResult[] = [];
    let servedBy: string | undefined;
    let capable = 0;
    for (const provider of this.#providers) {
      if (servedBy) {
        results.push(skippedResult(provider.name, `not needed: ${servedBy} purged`));
        continue;
      }
      const plan = provider.plan(request);
      if (plan.unsupported.length > 0) {
        results.push(this.#report(skippedResult(provider.name, `cannot ${plan.unsupported.join('; ')}`)));
        this.emit('failover', { from: provider.name, reason: 'unsupported' });
        continue;
      }
      capable++;
      const breaker = this.#breakers.get(provider.name)!;
      try {
        const result = await breaker.execute(async () => {
          const r = await provider.purge(request, this.#context(provider));
          if (!r.ok) throw new PurgeFailed(r);
          return r;
        });
        results.push(this.#report(result));
        servedBy = provider.name;
      } catch (error) {
        const result =
          error instanceof PurgeFailed
            ? error.result
            : isCircuitOpen(error)
              ? skippedResult(provider.name, 'circuit open: recent purges failed')
              : this.#failedResult(provider.name, error);
        results.push(this.#report(result));
        this.emit('failover', { from: provider.name, reason: result.skipped ?? (error as Error).message });
        this.#logger.warn({ provider: provider.name, err: error }, 'cdn purge failed over');
      }
    }
    if (capable === 0)
      throw new NoaError(
        'NOA_CDN_UNSUPPORTED',
        `no provider can do this purge: ${results.map((r) => `${r.provider} ${r.skipped}`).join('; ')}`,
      );
    return { ok: servedBy !== undefined, mode: 'failover', servedBy, providers: results };
  }

  #context(provider: CdnProvider) {
    return {
      onRequest: (planned: PlannedRequest) => {
        this.#counters.requests.inc(1, { provider: provider.name });
        if (this.hasListeners('request'))
          this.emit('request', { provider: provider.name, kind: planned.kind, items: planned.items.length });
      },
      onRetry: (info: { kind: PurgeKind; attempt: number; delayMs: number; error: unknown }) =>
        this.emit('retry', { provider: provider.name, ...info }),
    };
  }

  #failedResult(provider: string, error: unknown): ProviderPurgeResult {
    const result = skippedResult(provider, `failed before sending: ${(error as Error)?.message}`);
    result.failures.push({ kind: 'urls', items: [], error: error as Error });
    return result;
  }

  #report(result: ProviderPurgeResult): ProviderPurgeResult {
    for (const [kind, n] of Object.entries(result.purged))
      if (n > 0) this.#counters.items.inc(n, { provider: result.provider, kind });
    if (result.failures.length > 0)
      this.#counters.failures.inc(result.failures.length, { provider: result.provider });
    this.emit('result', result);
    return result;
  }

  signUrl(url: string, options: SignUrlOptions & { provider?: string }): string {
    invariant(
      typeof url === 'string' && url.length > 0,
      'signUrl: url is required',
      'NOA_CDN_INVALID_SIGNING_OPTION',
    );
    const { provider: name, ...rest } = options ?? ({} as SignUrlOptions);
    const provider = name
      ? this.#providers.find((p) => p.name === name)
      : this.#providers.find((p) => p.signUrl && p.capabilities().signing.length > 0);
    if (!provider)
      throw new NoaError(
        'NOA_CDN_SIGNING_NOT_CONFIGURED',
        name
          ? `signUrl: no provider named "${name}" (have ${this.#providers.map((p) => p.name).join(', ')})`
          : 'signUrl: no provider has signing keys configured',
      );
    if (!provider.signUrl)
      throw new NoaError('NOA_CDN_UNSUPPORTED', `signUrl: ${provider.name} cannot sign URLs`);
    return provider.signUrl(url, rest as SignUrlOptions);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // In-flight purges finish first: their results matter more than a fast shutdown.
    await Promise.allSettled([...this.#inFlight]);
    await Promise.all(this.#providers.map((p) => p.close()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

const isCircuitOpen = (error: unknown) => (error as { code?: string })?.code === 'NOA_CIRCUIT_OPEN';

/** One purge and signing API over several CDNs: fan out to all, or fail over in order. */
export function createCdnManager(options: CdnManagerOptions): CdnManager {
  return new Manager(options);
}
