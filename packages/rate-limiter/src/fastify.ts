import { invariant } from '@noa/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  createRequestLimiter,
  type RequestLimiterOptions,
  type RequestVerdict,
} from './http/request-limiter.js';
import { refusalBody } from './http/respond.js';

export interface FastifyRateLimitOptions extends RequestLimiterOptions {
  /** The authenticated user's id (for `by: 'user'`). */
  user?: (request: FastifyRequest) => string | undefined;
  roles?: (request: FastifyRequest) => readonly string[] | undefined;
  /** The endpoint name for `by: 'endpoint'`. Default `<METHOD> <route pattern>`, e.g. `GET /users/:id`. */
  endpoint?: (request: FastifyRequest) => string;
  /** Requests that bypass the limiter. Routes with `config: { rateLimit: false }` always do. */
  skip?: (request: FastifyRequest) => boolean;
  /** Sends a refused request's reply (429, 403 or 503); the status and headers are already set. Default: JSON. */
  onRefused?: (request: FastifyRequest, reply: FastifyReply, verdict: RequestVerdict) => unknown;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The rate limiter's verdict for this request. */
    rateLimit?: RequestVerdict;
  }
}

/**
 * Fastify 5 plugin: `await app.register(fastifyRateLimit, { limit: 100, windowMs: 60_000 })`.
 * Applies to every route registered in the same scope (and its children), checked in `onRequest`.
 * The limiters are closed with the app.
 */
export async function fastifyRateLimit(
  fastify: FastifyInstance,
  options: FastifyRateLimitOptions,
): Promise<void> {
  const limiter = createRequestLimiter(options);
  const { user, roles, endpoint, skip, onRefused } = options;
  for (const [name, fn] of Object.entries({ user, roles, endpoint, skip, onRefused })) {
    invariant(fn === undefined || typeof fn === 'function', `fastifyRateLimit: ${name} must be a function`);
  }
  fastify.addHook('onClose', () => limiter.close());
  fastify.addHook('onRequest', async (request, reply) => {
    // A getter that builds a new object on every access: read it once.
    const route = request.routeOptions;
    if ((route.config as { rateLimit?: boolean } | undefined)?.rateLimit === false || skip?.(request)) return;
    const query = request.url.indexOf('?');
    const path = query === -1 ? request.url : request.url.slice(0, query);
    const verdict = await limiter.check({
      remoteAddress: request.raw.socket.remoteAddress,
      forwardedFor: request.headers['x-forwarded-for'],
      method: request.method,
      path,
      endpoint: endpoint ? endpoint(request) : `${request.method} ${route.url ?? path}`,
      user: user?.(request),
      roles: roles?.(request),
    });
    request.rateLimit = verdict;
    reply.headers(verdict.headers);
    if (verdict.action === 'allow') return;
    reply.code(verdict.statusCode);
    if (onRefused) await onRefused(request, reply, verdict);
    else reply.type('application/json; charset=utf-8').send(refusalBody(verdict));
    return reply;
  });
}

// Registered without encapsulation (what fastify-plugin does), so the hook reaches the routes of
// the scope that registered it.
Object.assign(fastifyRateLimit, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@noa/rate-limiter',
});

export type { RequestVerdict } from './http/request-limiter.js';
