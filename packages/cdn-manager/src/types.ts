import type { Clock } from './clock.js';

/** What to purge. At least one field must be set; every list is de-duplicated. */
export interface PurgeRequest {
  /** Absolute URLs (`https://www.example.com/a.css`) or absolute paths (`/a.css`, resolved against the provider's `baseUrl`). */
  urls?: string[];
  /** URL prefixes (`https://www.example.com/img/` or `/img/`): everything below is purged. */
  prefixes?: string[];
  /** Cache tags / surrogate keys. */
  tags?: string[];
  /** Whole hostnames (Cloudflare only). */
  hosts?: string[];
  /** Purge everything the provider caches for this site. */
  everything?: boolean;
  /**
   * Mark stale instead of deleting, where the provider can (Fastly soft purge, Akamai invalidate).
   * Providers without a soft purge do a hard purge and say so in `notes`.
   */
  soft?: boolean;
  signal?: AbortSignal;
}

export type PurgeKind = 'urls' | 'prefixes' | 'tags' | 'hosts' | 'everything';

/** One request a provider will send (or sent): one object type, within the provider's limits. */
export interface PlannedRequest {
  kind: PurgeKind;
  /** The items as the provider's API receives them (paths, absolute URLs, keys, `*` for everything). */
  items: string[];
  /** Rate-limit tokens the request consumes, by bucket name. */
  cost: Record<string, number>;
  /** Items by kind when one request carries several kinds (CloudFront paths and wildcards). */
  counts?: Partial<Record<PurgeKind, number>>;
}

export interface PurgePlan {
  provider: string;
  requests: PlannedRequest[];
  /** Parts of the request this provider cannot do, with why. Empty when it can do all of it. */
  unsupported: string[];
  /** Mappings applied (prefix -> wildcard path, soft -> hard, ...). */
  notes: string[];
}

export interface PurgeFailure {
  kind: PurgeKind;
  /** The items of the failed request, so the caller can retry exactly these. */
  items: string[];
  error: Error;
}

export interface ProviderPurgeResult {
  provider: string;
  ok: boolean;
  /** Purge requests sent and accepted or finally failed (one per batch). */
  requests: number;
  /** HTTP attempts including retries. */
  attempts: number;
  /** Items accepted, by kind (`everything` counts 1). */
  purged: Record<PurgeKind, number>;
  /** Provider-side ids (purge ids, invalidation ids). */
  ids: string[];
  /** Batches that failed after retries; their items were not purged. */
  failures: PurgeFailure[];
  notes: string[];
  /** Why the provider did nothing (failover: not needed, circuit open, unsupported). */
  skipped?: string;
  durationMs: number;
}

export interface PurgeResult {
  ok: boolean;
  mode: 'all' | 'failover';
  /** In failover mode: the provider that purged. */
  servedBy?: string;
  providers: ProviderPurgeResult[];
}

/** Documented limits a provider works within (undefined: no documented limit). */
export interface ProviderLimits {
  /** Items per request, by kind. */
  itemsPerRequest: Partial<Record<PurgeKind, number>>;
  /** Largest request body. */
  maxBodyBytes?: number;
  /** Token buckets: capacity and refill per second. */
  rateLimits: Record<string, { capacity: number; refillPerSecond: number }>;
  /** Provider-specific limits (CloudFront's in-progress paths and wildcards). */
  other?: Record<string, number>;
}

export interface ProviderCapabilities {
  urls: boolean;
  prefixes: boolean;
  tags: boolean;
  hosts: boolean;
  everything: boolean;
  softPurge: boolean;
  /** Which `signUrl` forms this provider can produce with its configuration. */
  signing: string[];
  limits: ProviderLimits;
}

export interface SignUrlOptions {
  /** When the URL stops working (Date or epoch milliseconds). */
  expiresAt: Date | number;
  /** When it starts working, where the form supports it. */
  startsAt?: Date | number;
  /** Restrict to a client IP (or CIDR for CloudFront), where the form supports it. */
  ipAddress?: string;
}

export interface ProviderContext {
  clock: Clock;
  signal?: AbortSignal;
  onRequest?: (request: PlannedRequest) => void;
  onRetry?: (info: { kind: PurgeKind; attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * One CDN. Implementations live in `@noa/cdn-manager/<provider>`; the manager only sees this.
 */
export interface CdnProvider {
  readonly name: string;
  capabilities(): ProviderCapabilities;
  /** The requests `purge` would send, without sending anything. */
  plan(request: PurgeRequest): PurgePlan;
  purge(request: PurgeRequest, context?: Partial<ProviderContext>): Promise<ProviderPurgeResult>;
  /** A signed URL in this provider's form; throws `NOA_CDN_SIGNING_NOT_CONFIGURED` without keys. */
  signUrl?(url: string, options: SignUrlOptions): string;
  close(): Promise<void>;
}
