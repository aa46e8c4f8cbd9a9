import type { IncomingMessage, ServerResponse } from 'node:http';
import { invariant } from '@noa/core';
import {
  createRequestLimiter,
  type RequestLimiter,
  type RequestLimiterOptions,
  type RequestVerdict,
} from './http/request-limiter.js';
import { refusalBody } from './http/respond.js';

/** The parts of an Express 5 request the middleware reads (plain node requests work too). */
export type ExpressLikeRequest = IncomingMessage & {
  path?: string;
  /** Set by Express when the middleware runs on a route (`app.get('/users/:id', limiter, handler)`). */
  route?: { path: unknown };
  baseUrl?: string;
  rateLimit?: RequestVerdict;
};

export interface ExpressRateLimitOptions<Req extends ExpressLikeRequest = ExpressLikeRequest>
  extends RequestLimiterOptions {
  /** The authenticated user's id (for `by: 'user'`), e.g. `(req) => req.user?.id`. */
  user?: (req: Req) => string | undefined;
  roles?: (req: Req) => readonly string[] | undefined;
  /**
   * The endpoint name for `by: 'endpoint'`. Default `<METHOD> <route pattern>` (e.g.
   * `GET /users/:id`) when the middleware is mounted on a route, else `<METHOD> <path>`.
   */
  endpoint?: (req: Req) => string;
  /** Requests that bypass the limiter entirely. */
  skip?: (req: Req) => boolean;
  /** Answers a refused request (429, 403 or 503); the status and headers are already set. Default: a JSON body. */
  onRefused?: (req: Req, res: ServerResponse, verdict: RequestVerdict) => void;
}

export interface RateLimitMiddleware<Req extends ExpressLikeRequest = ExpressLikeRequest> {
  (req: Req, res: ServerResponse, next: (error?: unknown) => void): void;
  /** The rules' limiters, for `reset`, `block`, `penalty` and `reward`. */
  readonly limiter: RequestLimiter;
  close(): Promise<void>;
}

/**
 * Express 5 middleware: `app.use(rateLimit({ limit: 100, windowMs: 60_000 }))`. Sets the rate-limit
 * headers, answers 429 with `Retry-After` when a rule is exceeded, 403 for deny-listed clients and
 * 503 when the store is down and `onStoreError` is `fail-closed`. The verdict is on `req.rateLimit`.
 */
export function rateLimit<Req extends ExpressLikeRequest = ExpressLikeRequest>(
  options: ExpressRateLimitOptions<Req>,
): RateLimitMiddleware<Req> {
  const limiter = createRequestLimiter(options);
  const { user, roles, endpoint, skip, onRefused } = options;
  for (const [name, fn] of Object.entries({ user, roles, endpoint, skip, onRefused })) {
    invariant(fn === undefined || typeof fn === 'function', `rateLimit: ${name} must be a function`);
  }
  const middleware = (req: Req, res: ServerResponse, next: (error?: unknown) => void): void => {
    if (skip?.(req)) {
      next();
      return;
    }
    const path = req.path ?? (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    let pending: Promise<RequestVerdict>;
    try {
      pending = limiter.check({
        remoteAddress: req.socket.remoteAddress,
        forwardedFor: req.headers['x-forwarded-for'],
        method,
        path,
        endpoint: endpoint ? endpoint(req) : routeEndpoint(req, method),
        user: user?.(req),
        roles: roles?.(req),
      });
    } catch (error) {
      next(error);
      return;
    }
    pending.then((verdict) => {
      req.rateLimit = verdict;
      for (const name in verdict.headers) res.setHeader(name, verdict.headers[name]!);
      if (verdict.action === 'allow') return next();
      res.statusCode = verdict.statusCode;
      if (onRefused) return onRefused(req, res, verdict);
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.end(refusalBody(verdict));
    }, next);
  };
  return Object.assign(middleware, { limiter, close: () => limiter.close() });
}

/** `<METHOD> <mount path><route pattern>` when Express has matched a route, else undefined (the path is used). */
function routeEndpoint(req: ExpressLikeRequest, method: string): string | undefined {
  const route = req.route;
  return route === undefined ? undefined : `${method} ${req.baseUrl ?? ''}${String(route.path)}`;
}

export type { RequestVerdict } from './http/request-limiter.js';
