import type { RateLimitDecision, StorePolicy } from '../types.js';

/**
 * Which rate-limit headers to send: `legacy` (`X-RateLimit-Limit/Remaining/Reset`), `ietf` (the
 * structured `RateLimit-Policy` and `RateLimit` fields of draft-ietf-httpapi-ratelimit-headers),
 * `both` (default) or `none`. `Retry-After` is always sent with 429 and 503.
 */
export type HeaderStyle = 'legacy' | 'ietf' | 'both' | 'none';

export interface RuleDecision {
  rule: string;
  policy: StorePolicy;
  decision: RateLimitDecision;
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/**
 * The headers for a request's decisions (one per matching rule). Decisions nobody made (the store
 * was down and the limiter failed open or closed) publish no numbers: they would be invented.
 */
export function rateLimitHeaders(
  style: HeaderStyle,
  results: readonly RuleDecision[],
  nowMs: number,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const known = results.filter((r) => r.decision.decidedBy !== 'none');
  if (style === 'none' || known.length === 0) return headers;
  if (style === 'legacy' || style === 'both') {
    // The binding rule: a denying one if any, else the one with the least left.
    let binding = known[0]!.decision;
    for (const { decision } of known) {
      if (decision.allowed === binding.allowed ? decision.remaining < binding.remaining : !decision.allowed) {
        binding = decision;
      }
    }
    headers['X-RateLimit-Limit'] = String(binding.limit);
    headers['X-RateLimit-Remaining'] = String(binding.remaining);
    headers['X-RateLimit-Reset'] = String(Math.ceil((nowMs + binding.resetMs) / 1000));
  }
  if (style === 'ietf' || style === 'both') {
    headers['RateLimit-Policy'] = known.map(({ rule, policy }) => policyItem(rule, policy)).join(', ');
    headers.RateLimit = known
      .map(({ rule, decision }) => `"${rule}";r=${decision.remaining};t=${seconds(decision.resetMs)}`)
      .join(', ');
  }
  return headers;
}

/** A rule's `RateLimit-Policy` item: the same on every response, so formatted once per rule. */
const policyItems = new WeakMap<StorePolicy, { rule: string; item: string }>();
function policyItem(rule: string, policy: StorePolicy): string {
  const cached = policyItems.get(policy);
  if (cached?.rule === rule) return cached.item;
  const item = `"${rule}";q=${policy.limit};w=${seconds(policy.windowMs)}`;
  if (Object.isFrozen(policy)) policyItems.set(policy, { rule, item });
  return item;
}

/** `Retry-After` in whole seconds, at least 1 (0 would invite an immediate retry). */
export function retryAfterHeader(ms: number): string {
  return String(Math.max(1, seconds(ms)));
}
