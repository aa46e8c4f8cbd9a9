import { invariant, type Logger, type Metrics } from '@noa/core';
import { clientIpResolver, type TrustProxy } from '../internal/client-ip.js';
import { cidrMatcher, ipKey } from '../internal/ip.js';
import type { LimitOptions } from '../policy.js';
import {
  createRateLimiter,
  type OnStoreError,
  type RateLimiter,
  type RateLimiterOptions,
} from '../rate-limiter.js';
import { memoryStore } from '../stores/memory.js';
import type { RateLimitDecision, RateLimitStore } from '../types.js';
import { type HeaderStyle, type RuleDecision, rateLimitHeaders, retryAfterHeader } from './headers.js';
import { type CompiledRule, compileRule, type RateLimitRule, type RequestInfo } from './rule.js';

export interface RequestLimiterOptions extends Partial<LimitOptions> {
  /** The limits; every rule that matches a request must pass. Default: one rule from the top-level limit. */
  rules?: RateLimitRule[];
  /** Key of the default rule (when `rules` is not given). Default `ip`. */
  by?: RateLimitRule['by'];
  /** Shared by every rule. Default: one `memoryStore()`, closed with the limiter. */
  store?: RateLimitStore;
  onStoreError?: OnStoreError;
  storeTimeoutMs?: number;
  circuitBreaker?: RateLimiterOptions['circuitBreaker'];
  blockCacheSize?: number;
  logger?: Logger;
  metrics?: Metrics;
  /** Namespace of the rules' keys in the store. Default `http`. */
  name?: string;
  /** Addresses and CIDR ranges (IPv4 and IPv6) never limited. */
  allow?: readonly string[];
  /** Addresses and CIDR ranges answered 403 without touching the store. */
  deny?: readonly string[];
  /** Which proxies to believe about the client address (see `TrustProxy`). Default false. */
  trustProxy?: TrustProxy;
  /** IPv6 clients are keyed by this network prefix. Default 64. */
  ipv6Prefix?: number;
  /** Default `both`. */
  headers?: HeaderStyle;
}

/** What the adapters know about a request. */
export interface HttpRequestFacts {
  remoteAddress: string | undefined;
  forwardedFor: string | string[] | undefined;
  method: string;
  path: string;
  endpoint?: string | undefined;
  user?: string | undefined;
  roles?: readonly string[] | undefined;
}

export interface RequestVerdict {
  /** `allow` (passes; also allow-listed), `limit` (429), `deny` (deny-listed, 403), `unavailable` (store down and failing closed, 503). */
  action: 'allow' | 'limit' | 'deny' | 'unavailable';
  statusCode: 200 | 403 | 429 | 503;
  headers: Record<string, string>;
  results: RuleDecision[];
  retryAfterMs: number;
  request: RequestInfo;
}

export interface RequestLimiter {
  /** One limiter per rule, by rule name: for `reset`, `block`, `penalty`, `reward` on a rule's keys. */
  readonly limiters: ReadonlyMap<string, RateLimiter>;
  check(facts: HttpRequestFacts): Promise<RequestVerdict>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const VERDICT_STATUS = { allow: 200, limit: 429, deny: 403, unavailable: 503 } as const;

/**
 * The framework-neutral part of the Express and Fastify adapters: client address (trusted
 * proxies, IPv6 prefixes), allow and deny lists, rules, and the headers to send. Use it to
 * write an adapter for another framework.
 */
export function createRequestLimiter(options: RequestLimiterOptions): RequestLimiter {
  invariant(options !== null && typeof options === 'object', 'rate limit middleware: pass an options object');
  const {
    rules,
    by,
    store,
    name = 'http',
    allow = [],
    deny = [],
    trustProxy = false,
    ipv6Prefix = 64,
    headers: headerStyle = 'both',
  } = options;
  invariant(
    Number.isInteger(ipv6Prefix) && ipv6Prefix >= 1 && ipv6Prefix <= 128,
    `ipv6Prefix must be an integer from 1 to 128 (64 is one subscriber's network), got ${ipv6Prefix}`,
  );
  invariant(
    ['legacy', 'ietf', 'both', 'none'].includes(headerStyle),
    `headers must be 'legacy', 'ietf', 'both' or 'none', got ${String(headerStyle)}`,
  );
  invariant(
    rules === undefined || (Array.isArray(rules) && rules.length > 0),
    'rules must be a non-empty array',
  );
  const defaults: Partial<LimitOptions> = {
    algorithm: options.algorithm,
    limit: options.limit,
    windowMs: options.windowMs,
    burst: options.burst,
    blockAfterViolations: options.blockAfterViolations,
    blockDurationMs: options.blockDurationMs,
  };
  const compiled: CompiledRule[] = (rules ?? [{ name: 'default', by }]).map((rule, i) =>
    compileRule(rule, i, defaults),
  );
  invariant(
    new Set(compiled.map((r) => r.name)).size === compiled.length,
    'rule names must be unique: they name the keys in the store',
  );
  const isAllowed = cidrMatcher(allow, 'allow');
  const isDenied = cidrMatcher(deny, 'deny');
  const resolveIp = clientIpResolver(trustProxy);
  const sharedStore = store ?? memoryStore();
  const limiters = new Map<string, RateLimiter>();
  for (const rule of compiled) {
    limiters.set(
      rule.name,
      createRateLimiter({
        ...rule.options,
        name: `${name}:${rule.name}`,
        store: sharedStore,
        onStoreError: options.onStoreError,
        storeTimeoutMs: options.storeTimeoutMs,
        circuitBreaker: options.circuitBreaker,
        blockCacheSize: options.blockCacheSize,
        logger: options.logger,
        metrics: options.metrics,
      }),
    );
  }

  const verdict = (
    action: RequestVerdict['action'],
    request: RequestInfo,
    results: RuleDecision[] = [],
    retryAfterMs = 0,
  ): RequestVerdict => {
    const headers = rateLimitHeaders(headerStyle, results, Date.now());
    if (action === 'limit' || action === 'unavailable')
      headers['Retry-After'] = retryAfterHeader(retryAfterMs);
    return { action, statusCode: VERDICT_STATUS[action], headers, results, retryAfterMs, request };
  };

  return {
    limiters,
    async check(facts) {
      const address = resolveIp(facts.remoteAddress, facts.forwardedFor);
      const request: RequestInfo = {
        ip: address ? ipKey(address, ipv6Prefix) : 'unknown',
        method: facts.method,
        path: facts.path,
        endpoint: facts.endpoint ?? `${facts.method} ${facts.path}`,
        user: facts.user,
        roles: facts.roles,
      };
      if (address && isDenied(address)) return verdict('deny', request);
      if (address && isAllowed(address)) return verdict('allow', request);
      // Plain loops and no promise per rule beyond the limiter's own: this runs on every request.
      const matched: CompiledRule[] = [];
      const costs: number[] = [];
      const keys: string[] = [];
      const pending: Promise<RateLimitDecision>[] = [];
      for (const rule of compiled) {
        if (!rule.matches(request)) continue;
        const cost = rule.cost(request);
        const key = rule.key(request);
        matched.push(rule);
        costs.push(cost);
        keys.push(key);
        pending.push(limiters.get(rule.name)!.consume(key, { cost }));
      }
      const decisions = pending.length === 1 ? [await pending[0]!] : await Promise.all(pending);
      const results: RuleDecision[] = decisions.map((decision, i) => ({
        rule: matched[i]!.name,
        policy: matched[i]!.policy,
        decision,
      }));
      let retryAfterMs = 0;
      let action: RequestVerdict['action'] = 'allow';
      for (const { decision } of results) {
        if (decision.allowed) continue;
        retryAfterMs = Math.max(retryAfterMs, decision.retryAfterMs);
        if (decision.reason !== 'store-unavailable') action = 'limit';
        else if (action === 'allow') action = 'unavailable';
      }
      if (action !== 'allow') {
        // All rules must pass: give back what the passing ones took for a request that is refused.
        const refunds = await Promise.allSettled(
          results.map(({ rule, decision }, i) =>
            decision.allowed && decision.decidedBy !== 'none' && costs[i]! > 0
              ? limiters.get(rule)!.reward(keys[i]!, costs[i]!)
              : undefined,
          ),
        );
        // The headers then show what is really left after the refund.
        refunds.forEach((refund, i) => {
          if (refund.status === 'fulfilled' && refund.value)
            results[i] = { ...results[i]!, decision: refund.value };
        });
      }
      return verdict(action, request, results, retryAfterMs);
    },
    async close() {
      for (const limiter of limiters.values()) await limiter.close();
      if (store === undefined) await sharedStore.close();
    },
    [Symbol.asyncDispose]() {
      return this.close();
    },
  };
}
