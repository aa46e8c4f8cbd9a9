import { createHash } from 'node:crypto';
import { invariant } from '@noa/core';
import { type LimitOptions, resolvePolicy } from '../policy.js';
import type { StorePolicy } from '../types.js';

/** What the adapters tell the rules about a request. */
export interface RequestInfo {
  /** The client address as a key: IPv4, or the IPv6 network (`2001:db8:1:2::/64`). */
  ip: string;
  method: string;
  /** Path without the query string. */
  path: string;
  /** The route, e.g. `GET /users/:id` (Fastify's route pattern; the path for Express unless `endpoint` is given). */
  endpoint: string;
  /** The authenticated user's id, if any. */
  user?: string | undefined;
  roles?: readonly string[] | undefined;
}

/** What a rule's key is made of; `global` is one bucket for everybody the rule matches. */
export type KeyPart = 'ip' | 'user' | 'endpoint' | 'role' | 'global';

export interface RuleMatch {
  method?: string | readonly string[];
  /** Exact path, a prefix ending in `*` (`/api/*`), or a RegExp. */
  path?: string | RegExp;
  /** The request has one of these roles. */
  role?: string | readonly string[];
  /** Only requests with (true) or without (false) an authenticated user. */
  authenticated?: boolean;
}

export interface RateLimitRule extends Partial<LimitOptions> {
  /** Names the rule in keys and in the `RateLimit-Policy` header: letters, digits, `_.:-`. Default `rule<n>`. */
  name?: string;
  /** Which requests the rule applies to (default: all). Every matching rule must pass. */
  match?: RuleMatch | ((request: RequestInfo) => boolean);
  /**
   * What to count by. Default `ip`. `user` falls back to the IP for anonymous requests; `role`
   * uses the first role (or `anonymous`). Arrays combine parts, e.g. `['user', 'endpoint']`.
   */
  by?: KeyPart | readonly KeyPart[] | ((request: RequestInfo) => string);
  /** Units a request costs under this rule. Default 1. */
  cost?: number | ((request: RequestInfo) => number);
}

export interface CompiledRule {
  name: string;
  policy: StorePolicy;
  options: LimitOptions;
  matches(request: RequestInfo): boolean;
  key(request: RequestInfo): string;
  cost(request: RequestInfo): number;
}

const NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const asList = <T>(value: T | readonly T[] | undefined): readonly T[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value as T];

function compileMatch(match: RateLimitRule['match'], where: string): (request: RequestInfo) => boolean {
  if (match === undefined) return () => true;
  if (typeof match === 'function') return match;
  invariant(typeof match === 'object', `${where}: match must be an object or a function`);
  const methods = asList(match.method);
  const roles = asList(match.role);
  for (const [what, list] of [
    ['method', methods],
    ['role', roles],
  ] as const) {
    invariant(
      list === undefined || list.every((item) => typeof item === 'string'),
      `${where}: match.${what} must be a string or a list of strings`,
    );
  }
  const upperMethods = methods?.map((m) => m.toUpperCase());
  const { path, authenticated } = match;
  let pathMatches: (p: string) => boolean = () => true;
  if (path instanceof RegExp) pathMatches = (p) => path.test(p);
  else if (typeof path === 'string' && path.endsWith('*')) {
    const prefix = path.slice(0, -1);
    pathMatches = (p) => p.startsWith(prefix);
  } else if (typeof path === 'string') pathMatches = (p) => p === path;
  else invariant(path === undefined, `${where}: match.path must be a string or a RegExp`);
  return (request) =>
    (upperMethods === undefined || upperMethods.includes(request.method)) &&
    pathMatches(request.path) &&
    (roles === undefined || (request.roles ?? []).some((role) => roles.includes(role))) &&
    (authenticated === undefined || authenticated === (request.user !== undefined));
}

const PARTS: Record<KeyPart, (request: RequestInfo) => string> = {
  ip: (r) => r.ip,
  user: (r) => (r.user === undefined ? `ip:${r.ip}` : `user:${r.user}`),
  endpoint: (r) => r.endpoint,
  role: (r) => r.roles?.[0] ?? 'anonymous',
  global: () => '*',
};

/** Longer request keys (a long path or user id comes from the client) are stored as their hash. */
const MAX_REQUEST_KEY = 256;

/**
 * A key from the request, at most `MAX_REQUEST_KEY` characters: longer ones become
 * `sha256:<digest>`, so a client sending a huge path is limited like any other, not answered 500
 * because the key is over the limiter's length limit.
 */
export function boundedKey(key: string): string {
  // Not a string (a `by` function's bug): passed on for the limiter's NOA_RATE_LIMIT_INVALID_KEY.
  return typeof key !== 'string' || key.length <= MAX_REQUEST_KEY
    ? key
    : `sha256:${createHash('sha256').update(key).digest('base64url')}`;
}

function compileKey(by: RateLimitRule['by'], where: string): (request: RequestInfo) => string {
  if (typeof by === 'function') return (request) => boundedKey(by(request));
  const parts = asList(by ?? 'ip')!;
  invariant(
    parts.length > 0 && parts.every((part) => part in PARTS),
    `${where}: by must be a function or one or more of ${Object.keys(PARTS).join(', ')}`,
  );
  const fns = parts.map((part) => PARTS[part]);
  return fns.length === 1
    ? (request) => boundedKey(fns[0]!(request))
    : (request) => boundedKey(fns.map((fn) => fn(request)).join('|'));
}

/** Validates a rule, filling its limit from `defaults` (the top-level options). */
export function compileRule(
  rule: RateLimitRule,
  index: number,
  defaults: Partial<LimitOptions>,
): CompiledRule {
  const where = `rate limit rule ${rule?.name ?? index}`;
  invariant(rule !== null && typeof rule === 'object', `${where}: each rule must be an object`);
  const name = rule.name ?? `rule${index}`;
  invariant(NAME.test(name), `${where}: name must be 1-64 letters, digits or _.:- characters`);
  const options = { ...defaults, ...stripUndefined(rule) } as LimitOptions;
  const policy = Object.freeze(resolvePolicy(options, where));
  const { cost = 1 } = rule;
  invariant(
    typeof cost === 'function' || (Number.isInteger(cost) && cost >= 0 && cost <= policy.burst),
    `${where}: cost must be a function or an integer from 0 to the limit`,
  );
  return {
    name,
    policy,
    options,
    matches: compileMatch(rule.match, where),
    key: compileKey(rule.by, where),
    cost: typeof cost === 'function' ? cost : () => cost,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
