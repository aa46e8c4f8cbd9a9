/**
 * Requests needed per provider against the minimum the documented limits allow, and the time to drain
 * a purge backlog under the documented rate limits on a simulated clock (in-process fake transports).
 */
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { type BenchTable, renderText } from '@noa/testkit';
import { type CdnProvider, createSimulatedClock, type SimulatedClock } from '../src/index.js';
import { akamai } from '../src/providers/akamai.js';
import { cloudflare, cloudflarePlanLimits } from '../src/providers/cloudflare.js';
import { cloudfront } from '../src/providers/cloudfront.js';
import { fastly } from '../src/providers/fastly.js';

const urls = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => `https://www.example.com/products/item-${String(i).padStart(6, '0')}.html`,
  );
const tags = (n: number) => Array.from({ length: n }, (_, i) => `product-${i}`);
const creds = { clientToken: 'c', clientSecret: 's', accessToken: 'a' };

/** Answers every purge at once: the bench measures planning and rate limiting, not a network. */
const okFetch = async (url: string) =>
  new Response(
    JSON.stringify(
      url.includes('/ccu/')
        ? { httpStatus: 201, purgeId: 'p' }
        : { success: true, result: { id: 'x' }, status: 'ok', id: 'x' },
    ),
    { status: url.includes('/ccu/') ? 201 : 200 },
  );

/** A CloudFront client whose invalidations complete `completeMs` after creation on the simulated clock. */
function fakeCloudFrontClient(clock: SimulatedClock, completeMs: number): CloudFrontClient {
  const created = new Map<string, number>();
  let id = 0;
  return {
    send: async (command: { constructor: { name: string }; input: any }) => {
      const name = command.constructor.name;
      if (name === 'ListInvalidationsCommand') return { InvalidationList: { Items: [] } };
      if (name === 'CreateInvalidationCommand') {
        const key = `I${++id}`;
        created.set(key, clock.now());
        return { Invalidation: { Id: key, Status: 'InProgress' } };
      }
      const at = created.get(command.input.Id)!;
      return {
        Invalidation: {
          Id: command.input.Id,
          Status: clock.now() - at >= completeMs ? 'Completed' : 'InProgress',
        },
      };
    },
    destroy: () => {},
  } as unknown as CloudFrontClient;
}

const CLOUDFRONT_COMPLETE_MS = 60_000;

function providers(clock: SimulatedClock): Record<string, CdnProvider> {
  const common = { clock, fetch: okFetch, baseUrl: 'https://www.example.com' };
  return {
    CloudFront: cloudfront({
      distributionId: 'D',
      client: fakeCloudFrontClient(clock, CLOUDFRONT_COMPLETE_MS),
      clock,
      pollIntervalMs: 5_000,
    }),
    'Cloudflare (free)': cloudflare({ ...common, zoneId: 'z', apiToken: 't', plan: 'free' }),
    'Cloudflare (enterprise)': cloudflare({ ...common, zoneId: 'z', apiToken: 't', plan: 'enterprise' }),
    Fastly: fastly({ ...common, serviceId: 's', apiKey: 'k' }),
    Akamai: akamai({ ...common, ...creds, host: 'akab.example' }),
  };
}

const jsonBytes = (items: string[]) =>
  items.reduce((n, i) => n + Buffer.byteLength(JSON.stringify(i)) + 1, 0) - 1;

/** The fewest requests the documented per-request limits allow. */
function minimum(provider: string, kind: 'urls' | 'tags', items: string[]): number | string {
  const n = items.length;
  switch (provider) {
    case 'CloudFront':
      return kind === 'urls' ? Math.ceil(n / 3000) : 'not supported';
    case 'Cloudflare (free)':
    case 'Cloudflare (enterprise)': {
      const limits = cloudflarePlanLimits[provider === 'Cloudflare (free)' ? 'free' : 'enterprise'];
      return Math.ceil(n / (kind === 'urls' ? limits.urlsPerRequest : limits.itemsPerRequest));
    }
    case 'Fastly':
      return kind === 'urls' ? n : Math.ceil(n / 256);
    default:
      // Akamai: 50,000-byte bodies of {"objects":[...]} and the type's bucket.
      return Math.max(
        Math.ceil(jsonBytes(items) / (50_000 - 14)),
        Math.ceil(n / (kind === 'urls' ? 10_000 : 5_000)),
      );
  }
}

export function requestTables(): BenchTable[] {
  const tables: BenchTable[] = [];
  for (const [kind, items, id, title] of [
    [
      'urls',
      urls(10_000),
      'cdn-requests-10k-urls',
      'Requests to purge 10,000 URLs: ours vs the documented minimum',
    ],
    [
      'tags',
      tags(1_000),
      'cdn-requests-1k-tags',
      'Requests to purge 1,000 tags: ours vs the documented minimum',
    ],
  ] as const) {
    const rows: (string | number)[][] = [];
    for (const [name, provider] of Object.entries(providers(createSimulatedClock()))) {
      const plan = provider.plan({ [kind]: items });
      const min = minimum(name, kind, [...items]);
      rows.push(
        plan.unsupported.length > 0
          ? [name, 'refused', String(min), 'n/a', items.length.toLocaleString('en-US')]
          : [
              name,
              plan.requests.length.toLocaleString('en-US'),
              typeof min === 'number' ? min.toLocaleString('en-US') : min,
              typeof min === 'number' ? `${(plan.requests.length / min).toFixed(2)}×` : 'n/a',
              items.length.toLocaleString('en-US'),
            ],
      );
    }
    tables.push({
      id,
      title,
      columns: [
        'provider',
        'requests (ours)',
        'documented minimum',
        'ours / minimum',
        'one per item (naive)',
      ],
      rows,
      notes: [
        'minimum: CloudFront 3,000 paths in progress; Cloudflare 100 (enterprise: 500 URLs) items per request; Fastly 1 URL or 256 keys per request; Akamai 50,000-byte bodies',
      ],
    });
  }
  return tables;
}

/** The shortest drain the token buckets allow: whatever exceeds the burst arrives at the refill rate. */
function bucketMinimumMs(items: number, capacity: number, perSecond: number): number {
  return (Math.max(0, items - capacity) / perSecond) * 1000;
}

export async function drainTable(): Promise<BenchTable> {
  const urlCount = 100_000;
  const tagCount = 10_000;
  const rows: (string | number)[][] = [];
  const theoretical: Record<string, { urls: number; tags: number | undefined }> = {
    CloudFront: { urls: (Math.ceil(urlCount / 3000) - 1) * CLOUDFRONT_COMPLETE_MS, tags: undefined },
    'Cloudflare (free)': {
      urls: bucketMinimumMs(urlCount, 800, 800),
      tags: bucketMinimumMs(tagCount / 100, 25, 5 / 60),
    },
    'Cloudflare (enterprise)': {
      urls: bucketMinimumMs(urlCount, 3000, 3000),
      tags: bucketMinimumMs(tagCount / 100, 500, 50),
    },
    Fastly: { urls: 0, tags: 0 },
    Akamai: {
      urls: bucketMinimumMs(urlCount, 10_000, 200),
      tags: bucketMinimumMs(tagCount, 5_000, 500 / 60),
    },
  };
  for (const name of Object.keys(theoretical)) {
    for (const kind of ['urls', 'tags'] as const) {
      const clock = createSimulatedClock();
      const provider = providers(clock)[name]!;
      const items = kind === 'urls' ? urls(urlCount) : tags(tagCount);
      if (provider.plan({ [kind]: items.slice(0, 1) }).unsupported.length > 0) {
        rows.push([name, `${items.length.toLocaleString('en-US')} ${kind}`, 'refused', 'n/a', 'n/a']);
        continue;
      }
      const result = await provider.purge({ [kind]: items });
      if (!result.ok) throw new Error(`${name} drain failed: ${result.failures[0]?.error.message}`);
      const min = theoretical[name]![kind]!;
      rows.push([
        name,
        `${items.length.toLocaleString('en-US')} ${kind}`,
        `${(clock.now() / 1000).toFixed(1)} s`,
        `${(min / 1000).toFixed(1)} s`,
        result.requests.toLocaleString('en-US'),
      ]);
      await provider.close();
    }
  }
  return {
    id: 'cdn-drain-backlog',
    title: 'Time to drain a purge backlog under the documented rate limits (simulated clock)',
    columns: ['provider', 'backlog', 'drain time (ours)', 'bucket minimum', 'requests'],
    rows,
    notes: [
      'Cloudflare URLs 800/s (free) or 3,000/s (enterprise); tag requests 5/min burst 25 (free) or 50/s burst 500 (enterprise); Akamai 10,000 URL burst + 200/s, 5,000 tag burst + 500/min; Fastly documents no purge rate limit',
      `CloudFront has no rate limit but 3,000 paths in progress: the minimum assumes each invalidation completes in ${CLOUDFRONT_COMPLETE_MS / 1000} s (an assumption; AWS documents no fixed time), polled every 5 s`,
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const table of [...requestTables(), await drainTable()]) console.log(renderText(table));
}
