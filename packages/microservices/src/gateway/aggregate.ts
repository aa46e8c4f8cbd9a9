import type { IncomingMessage, ServerResponse } from 'node:http';
import { isNoaError } from '@noa/core';
import { Router } from '../internal/http-router.js';
import type { ServiceRegistry } from '../registry.js';
import { createServiceClient, type ServiceClient, type ServiceClientOptions } from '../service-client.js';
import { type Authenticator, createAuthenticator, type RouteAuth } from './auth.js';
import { joinSegments } from './path.js';

export interface AggregateCall {
  service: string;
  /** Upstream path; `:name` placeholders take the aggregate path's parameters. */
  path: string;
  /** Default GET. */
  method?: string;
}

export interface AggregateRoute {
  /** Gateway path, with `:name` parameters, e.g. `/api/v1/dashboard/:userId`. */
  path: string;
  calls: Record<string, AggregateCall>;
  /** Name in metrics and logs. Default the path. */
  name?: string;
  auth?: RouteAuth;
  /** Per-call timeout. Default the client's. */
  timeoutMs?: number;
}

interface Compiled {
  route: AggregateRoute;
  name: string;
  auth?: Authenticator;
}

// Headers worth passing to every call: credentials and trace context.
const FORWARD = ['authorization', 'accept-language', 'tracestate'];

export interface Aggregator {
  /** Answers when the path is an aggregate; returns false otherwise. */
  handle(
    req: IncomingMessage,
    res: ServerResponse,
    segments: readonly string[],
    requestId: string,
    onRoute: (name: string) => void,
  ): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Request aggregation: one gateway request fans out to several services in parallel and answers
 * `{ data: { call: body | null }, errors?: { call: { status?, code, message } } }` — partial
 * results with per-call errors; 200 when at least one call succeeded, 502 when none did.
 */
export function createAggregator(
  routes: AggregateRoute[],
  options: { registry: ServiceRegistry; client?: Partial<ServiceClientOptions> },
): Aggregator {
  const router = new Router<Compiled>();
  for (const route of routes) {
    router.add(`GET ${route.path}`, {
      route,
      name: route.name ?? route.path,
      auth: createAuthenticator(route.auth),
    });
  }
  const clients = new Map<string, ServiceClient>();
  const clientFor = (service: string) => {
    let client = clients.get(service);
    if (!client) {
      client = createServiceClient({ ...options.client, registry: options.registry, service });
      clients.set(service, client);
    }
    return client;
  };
  const fill = (path: string, params: Record<string, string>) =>
    path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));

  return {
    async handle(req, res, segments, requestId, onRoute) {
      if (routes.length === 0) return false;
      const found = router.find(
        req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET'),
        joinSegments(segments),
      );
      if (!found || found === 'method-not-allowed') return false;
      const { route, name, auth } = found.value;
      onRoute(name);
      const headers: Record<string, string> = { 'x-request-id': requestId };
      for (const h of FORWARD) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      const traceparent = req.headers.traceparent;
      if (auth) {
        const result = await auth.authenticate(req);
        if (!result.ok) {
          const body = JSON.stringify({ error: result.error });
          res.writeHead(result.status, {
            'content-type': 'application/json',
            'www-authenticate': result.challenge,
            'x-request-id': requestId,
          });
          res.end(body);
          return true;
        }
        Object.assign(headers, result.headers);
      }
      const entries = Object.entries(route.calls);
      const settled = await Promise.allSettled(
        entries.map(([, call]) =>
          clientFor(call.service).request({
            method: call.method ?? 'GET',
            path: fill(call.path, found.params),
            headers,
            requestId,
            traceparent: typeof traceparent === 'string' ? traceparent : undefined,
            timeoutMs: route.timeoutMs,
          }),
        ),
      );
      const data: Record<string, unknown> = {};
      const errors: Record<string, { status?: number; code: string; message: string }> = {};
      settled.forEach((outcome, i) => {
        const key = entries[i]![0];
        data[key] = null;
        if (outcome.status === 'rejected') {
          const e = outcome.reason;
          errors[key] = {
            code: isNoaError(e) ? e.code : 'NOA_GATEWAY_UPSTREAM_ERROR',
            message: (e as Error)?.message ?? String(e),
          };
          return;
        }
        const r = outcome.value;
        let body: unknown = r.text();
        if (String(r.headers['content-type'] ?? '').includes('json')) {
          try {
            body = r.json();
          } catch {
            // keep the text
          }
        }
        if (r.status >= 400)
          errors[key] = {
            status: r.status,
            code: 'NOA_GATEWAY_CALL_FAILED',
            message: `${entries[i]![1].service} answered ${r.status}`,
          };
        else data[key] = body;
      });
      const failed = Object.keys(errors).length;
      const payload = JSON.stringify(failed ? { data, errors } : { data });
      res.writeHead(failed === entries.length ? 502 : 200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
        'x-request-id': requestId,
      });
      res.end(req.method === 'HEAD' ? undefined : payload);
      return true;
    },
    async close() {
      await Promise.allSettled([...clients.values()].map((c) => c.close()));
    },
  };
}
