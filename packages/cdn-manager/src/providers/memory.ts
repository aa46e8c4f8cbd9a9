import { invariant, NoaError } from '@noa/core';
import { systemClock } from '../clock.js';
import { packBatches } from '../internal/batch.js';
import { normalizePurge, requestedKinds } from '../internal/normalize.js';
import { checkProviderOptions, executePlan, type ProviderOptions } from '../internal/provider.js';
import type { CdnProvider, PlannedRequest, ProviderCapabilities, PurgeKind, PurgePlan } from '../types.js';

export interface MemoryProviderOptions extends ProviderOptions {
  /** Items per request, to exercise batching. Default 1,000. */
  itemsPerRequest?: number;
  /** Make every purge request fail (to exercise failover). */
  failing?: boolean;
}

export interface MemoryCdn extends CdnProvider {
  /** Every request received, in order. */
  readonly received: { kind: PurgeKind; items: string[]; soft: boolean }[];
  /** Switches failure on or off, like an outage starting or ending. */
  setFailing(failing: boolean): void;
}

/**
 * An in-process CDN that records what it was asked to purge: the embedded default for development
 * and tests, with every purge kind and soft purge supported.
 */
export function memoryProvider(options: MemoryProviderOptions = {}): MemoryCdn {
  checkProviderOptions(options, 'memoryProvider');
  const itemsPerRequest = options.itemsPerRequest ?? 1_000;
  invariant(
    Number.isInteger(itemsPerRequest) && itemsPerRequest >= 1,
    'memoryProvider(): itemsPerRequest must be >= 1',
  );
  const name = options.name ?? 'memory';
  let failing = options.failing ?? false;
  const received: MemoryCdn['received'] = [];
  let ids = 0;

  const plan = (request: Parameters<CdnProvider['plan']>[0]): PurgePlan => {
    const purge = normalizePurge(request);
    const result: PurgePlan = { provider: name, requests: [], unsupported: [], notes: [] };
    for (const kind of requestedKinds(purge)) {
      const items = kind === 'everything' ? ['*'] : purge[kind];
      for (const batch of packBatches(items, { maxItems: itemsPerRequest }).batches)
        result.requests.push({ kind, items: batch, cost: {} });
    }
    return result;
  };

  const capabilities = (): ProviderCapabilities => ({
    urls: true,
    prefixes: true,
    tags: true,
    hosts: true,
    everything: true,
    softPurge: true,
    signing: [],
    limits: { itemsPerRequest: { urls: itemsPerRequest, tags: itemsPerRequest }, rateLimits: {} },
  });

  return {
    name,
    received,
    setFailing: (value) => {
      failing = value;
    },
    capabilities,
    plan,
    purge: async (request, context) =>
      executePlan(
        { ...options, clock: options.clock ?? systemClock, retry: options.retry ?? { attempts: 1 } },
        {
          plan: plan(request),
          concurrency: 1,
          send: async (planned: PlannedRequest) => {
            if (failing)
              throw new NoaError('NOA_CDN_REQUEST_FAILED', `${name} is failing (simulated outage)`);
            received.push({ kind: planned.kind, items: planned.items, soft: request.soft === true });
            return `${name}-${++ids}`;
          },
        },
        request.signal,
        context,
      ),
    close: async () => {},
  };
}
