import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Transform } from 'node:stream';
import {
  invariant,
  isNoaError,
  type Logger,
  type Metrics,
  NoaError,
  noopLogger,
  noopMetrics,
} from '@noa/core';
import {
  createRateLimiter,
  type HeaderStyle,
  type RateLimiter,
  type RateLimitStore,
  rateLimitHeaders,
} from '@noa/rate-limiter';
import { requestIdFrom } from '../internal/trace-context.js';
import type { ServiceRegistry } from '../registry.js';
import {
  createProxyingClient,
  type ProxyingServiceClient,
  type ServiceClientOptions,
  type UploadStream,
} from '../service-client.js';
import { type AggregateRoute, createAggregator } from './aggregate.js';
import { type Authenticator, createAuthenticator, type RouteAuth } from './auth.js';
import { type CorsOptions, createCors } from './cors.js';
import { clientIp, downstreamHeaders, skippedRequestHeaders, upstreamHeaders } from './headers.js';
import { joinSegments, normalizePath } from './path.js';
import { proxyUpgrade } from './websocket.js';

export interface RouteRateLimit {
  limit: number;
  windowMs: number;
  /** Default 'sliding-window'. */
  algorithm?: 'token-bucket' | 'leaky-bucket' | 'fixed-window' | 'sliding-window' | 'gcra';
  /** Whose budget: the client IP (default), the authenticated user (falls back to IP), or your function. */
  key?: 'ip' | 'user' | ((req: IncomingMessage) => string);
  /** A @noa/rate-limiter store, e.g. redisStore({ client }) to share limits across gateway replicas. Default memory. */
  store?: RateLimitStore;
  /** Default 'both' (X-RateLimit-* and IETF RateLimit/RateLimit-Policy). */
  headers?: HeaderStyle;
}

export interface RequestTransformContext {
  req: IncomingMessage;
  route: string;
  method: string;
  /** Upstream path with query; assign to rewrite. */
  path: string;
  /** Upstream request headers; mutate freely. */
  headers: Record<string, string | string[]>;
  /** The authenticated subject (JWT `sub` or API-key consumer). */
  subject?: string;
}

export interface ResponseTransformContext {
  req: IncomingMessage;
  route: string;
  status: number;
  /** Response headers to the client; mutate freely. */
  headers: Record<string, string | string[] | number | undefined>;
}

export interface GatewayRoute {
  /** Path prefix, matched on whole segments (`/api/users` does not match `/api/usersX`). */
  prefix: string;
  /** The registry service to proxy to. */
  service: string;
  /** Name in metrics and logs. Default the prefix. */
  name?: string;
  /** Remove the prefix before forwarding. Default false. */
  stripPrefix?: boolean;
  /** Allowed methods. Default all. */
  methods?: string[];
  /** With `versioning: 'header'`, the version this route serves. */
  version?: string;
  auth?: RouteAuth;
  rateLimit?: RouteRateLimit;
  /** Client settings for this route (timeout, retries, circuit breaker, balancer...). */
  timeoutMs?: number;
  retry?: ServiceClientOptions['retry'];
  circuitBreaker?: ServiceClientOptions['circuitBreaker'];
  balancer?: ServiceClientOptions['balancer'];
  transform?: {
    request?: (ctx: RequestTransformContext) => void | Promise<void>;
    response?: (ctx: ResponseTransformContext) => void | Promise<void>;
  };
  /** Accept WebSocket upgrades on this route. Default true. */
  websocket?: boolean;
}

export interface GatewayLimits {
  /** Largest request header block (Node's maxHeaderSize): 431 above. Default 16 384. */
  headerBytes?: number;
  /** Largest request body: 413 above. Default 10 MiB. */
  bodyBytes?: number;
  /** Longest request target: 414 above. Default 8 192. */
  urlBytes?: number;
}

export interface GatewayOptions {
  registry: ServiceRegistry;
  routes: GatewayRoute[];
  aggregate?: AggregateRoute[];
  cors?: CorsOptions;
  /** 'path': the version is part of each prefix; 'header': routes sharing a prefix are chosen by `versionHeader`. */
  versioning?: 'path' | 'header';
  /** Default 'accept-version'. */
  versionHeader?: string;
  /** Version served when the header is absent. Default: the first route for the prefix. */
  defaultVersion?: string;
  /** Believe X-Forwarded-* / Forwarded from the client (only behind your own proxy). Default false. */
  trustProxy?: boolean;
  limits?: GatewayLimits;
  /** Defaults for every route's service client. */
  client?: Partial<Omit<ServiceClientOptions, 'registry' | 'service'>>;
  logger?: Logger;
  /** Per-route request count, latency histogram and status classes (e.g. prometheusMetrics()). */
  metrics?: Metrics;
}

export interface Gateway {
  /** The node:http server (listen with `listen()`, or mount `handler` in your own). */
  readonly server: Server;
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  listen(options?: { port?: number; host?: string }): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface CompiledRoute {
  route: GatewayRoute;
  name: string;
  prefix: string[];
  /** The prefix path stripPrefix removes (for X-Forwarded-Prefix), else undefined. */
  strippedPrefix?: string;
  methods?: Set<string>;
  client: ProxyingServiceClient;
  auth?: Authenticator;
  limiter?: { limiter: RateLimiter; key: RouteRateLimit['key']; headers: HeaderStyle };
}

const STATUS_BY_CODE: Record<string, number> = {
  NOA_SERVICE_NO_INSTANCES: 503,
  NOA_SERVICE_CIRCUIT_OPEN: 503,
  NOA_SERVICE_TIMEOUT: 504,
  NOA_GATEWAY_BODY_TOO_LARGE: 413,
};

/** An answer from the gateway itself, with the request id. */
function sendJson(
  res: ServerResponse,
  requestId: string,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
    'x-request-id': requestId,
    ...headers,
  });
  res.end(payload);
}

/**
 * Counts body bytes on their way upstream and fails the stream past the limit. A failure on the
 * client's side (over the limit, or the client went away) is marked as the caller's, so the
 * service client neither blames the instance (breaker, ejection) nor retries.
 */
function limitBody(req: IncomingMessage, limit: number): UploadStream {
  let size = 0;
  const counter: Transform & UploadStream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size <= limit) return callback(null, chunk);
      counter.callerError = new NoaError('NOA_GATEWAY_BODY_TOO_LARGE', `request body exceeds ${limit} bytes`);
      callback(counter.callerError);
    },
  });
  // The error reaches undici through the stream, but it may come before undici listens (the
  // upstream connection still opening): without a listener of our own it would crash the process.
  counter.on('error', () => {});
  req.on('error', (error) => {
    counter.callerError ??= error;
    counter.destroy(error);
  });
  return req.pipe(counter);
}

/** What #admit() answers for a route without auth or rate limit. */
const OPEN: { subject?: string; headers?: Record<string, string> } = {};

const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined ||
  (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

class ApiGateway implements Gateway {
  readonly server: Server;
  readonly #routes: CompiledRoute[];
  /** Request headers never forwarded (see skippedRequestHeaders). */
  readonly #skip: ReadonlySet<string>;
  readonly #options: GatewayOptions;
  readonly #limits: Required<GatewayLimits>;
  readonly #logger: Logger;
  readonly #cors;
  readonly #aggregator;
  readonly #sockets = new Set<Duplex>();
  readonly #requests;
  readonly #latency;
  /** Label objects are built only when someone collects metrics. */
  readonly #measured: boolean;
  /** Metrics or an access log want each request's end (a 'finish' listener and a clock read). */
  readonly #observed: boolean;
  readonly #aggregated: boolean;
  #closed = false;

  constructor(options: GatewayOptions) {
    invariant(
      options && typeof options.registry?.discover === 'function',
      'createGateway: registry is required',
    );
    invariant(Array.isArray(options.routes), 'createGateway: routes must be an array');
    this.#options = options;
    this.#logger = options.logger ?? noopLogger;
    this.#limits = { headerBytes: 16_384, bodyBytes: 10 * 1024 * 1024, urlBytes: 8_192, ...options.limits };
    const metrics = options.metrics ?? noopMetrics;
    this.#measured = metrics !== noopMetrics;
    this.#observed = this.#measured || this.#logger !== noopLogger;
    this.#aggregated = (options.aggregate?.length ?? 0) > 0;
    this.#requests = metrics.counter({
      name: 'gateway_requests_total',
      help: 'Requests handled by the gateway',
      labelNames: ['route', 'method', 'status_class'],
    });
    this.#latency = metrics.histogram({
      name: 'gateway_request_duration_seconds',
      help: 'Gateway request latency',
      labelNames: ['route'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.#routes = options.routes.map((route) => this.#compile(route));
    // Longest prefix first; routes sharing a prefix keep their order (header versioning picks among them).
    this.#routes.sort((a, b) => b.prefix.length - a.prefix.length);
    // Every header any route derives from credentials is stripped from every request, so no route
    // (even one without auth) lets a client forge it.
    this.#skip = skippedRequestHeaders(
      this.#routes.flatMap((r) => [
        ...(r.auth?.upstreamHeaders ?? []),
        ...(r.auth?.secretHeader ? [r.auth.secretHeader] : []),
      ]),
      options.trustProxy ?? false,
    );
    this.#cors = options.cors ? createCors(options.cors) : undefined;
    this.#aggregator = createAggregator(options.aggregate ?? [], {
      registry: options.registry,
      client: options.client,
    });
    this.server = createServer(
      { maxHeaderSize: this.#limits.headerBytes, keepAliveTimeout: 5_000 },
      this.handler,
    );
    this.server.on(
      'upgrade',
      (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.#upgrade(req, socket, head),
    );
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      if (!socket.writable) return socket.destroy();
      const status =
        error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    });
  }

  #compile(route: GatewayRoute): CompiledRoute {
    invariant(route && typeof route.prefix === 'string', 'createGateway: every route needs a prefix');
    const prefix = normalizePath(route.prefix);
    invariant(
      'segments' in prefix,
      `createGateway: route prefix ${route.prefix} is not a clean absolute path`,
    );
    const name = route.name ?? route.prefix;
    const client = createProxyingClient({
      ...this.#options.client,
      registry: this.#options.registry,
      service: route.service,
      ...(route.timeoutMs !== undefined ? { timeoutMs: route.timeoutMs } : {}),
      ...(route.retry !== undefined ? { retry: route.retry } : {}),
      ...(route.circuitBreaker !== undefined ? { circuitBreaker: route.circuitBreaker } : {}),
      ...(route.balancer !== undefined ? { balancer: route.balancer } : {}),
    });
    let limiter: CompiledRoute['limiter'];
    if (route.rateLimit) {
      const { limit, windowMs, algorithm, store, key = 'ip', headers = 'both' } = route.rateLimit;
      limiter = {
        limiter: createRateLimiter({ limit, windowMs, algorithm, store, name: `gateway:${name}` }),
        key,
        headers,
      };
    }
    let auth: Authenticator | undefined;
    try {
      auth = createAuthenticator(route.auth);
    } catch (error) {
      throw new NoaError('NOA_INVALID_OPTION', `createGateway: route ${name}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return {
      route,
      name,
      prefix: prefix.segments,
      strippedPrefix: route.stripPrefix ? joinSegments(prefix.segments) : undefined,
      methods: route.methods ? new Set(route.methods.map((m) => m.toUpperCase())) : undefined,
      client,
      auth,
      limiter,
    };
  }

  #match(segments: readonly string[], req: IncomingMessage): CompiledRoute | undefined {
    let sameP: CompiledRoute[] | undefined;
    for (const candidate of this.#routes) {
      const p = candidate.prefix;
      if (p.length > segments.length) continue;
      let ok = true;
      for (let i = 0; i < p.length; i++) {
        if (p[i] !== segments[i]) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (this.#options.versioning !== 'header') return candidate;
      if (sameP && sameP[0]!.prefix.length !== p.length) break;
      (sameP ??= []).push(candidate);
    }
    if (!sameP) return undefined;
    const header = req.headers[(this.#options.versionHeader ?? 'accept-version').toLowerCase()];
    const wanted = (Array.isArray(header) ? header[0] : header) ?? this.#options.defaultVersion;
    if (wanted === undefined) return sameP[0];
    return sameP.find((r) => r.route.version === wanted || r.route.version === undefined);
  }

  // The request id is not set with res.setHeader() up front: any header set that way sends
  // writeHead() down Node's slow path (setHeader per header). Every answer adds it itself.
  readonly handler = (req: IncomingMessage, res: ServerResponse): void => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    const state = { route: 'unmatched' };
    if (this.#observed) {
      const started = performance.now();
      res.once('finish', () => this.#observe(req, res, state.route, requestId, started));
    }
    this.#handle(req, res, requestId, state).catch((error) => this.#fail(res, error, requestId, state.route));
  };

  #observe(
    req: IncomingMessage,
    res: ServerResponse,
    route: string,
    requestId: string,
    started: number,
  ): void {
    const seconds = (performance.now() - started) / 1_000;
    if (this.#measured) {
      this.#requests.inc(1, {
        route,
        method: req.method ?? '',
        status_class: `${Math.floor(res.statusCode / 100)}xx`,
      });
      this.#latency.observe(seconds, { route });
    }
    if (this.#logger === noopLogger) return;
    this.#logger.info(
      {
        requestId,
        method: req.method,
        url: req.url,
        route,
        status: res.statusCode,
        durationMs: Math.round(seconds * 1e4) / 10,
      },
      'gateway request',
    );
  }

  #fail(res: ServerResponse, error: unknown, requestId: string, route: string): void {
    if (isNoaError(error, 'NOA_ABORTED') || res.destroyed) return;
    const code = isNoaError(error) ? error.code : 'NOA_GATEWAY_UPSTREAM_ERROR';
    const status = STATUS_BY_CODE[code] ?? 502;
    if (status >= 500) this.#logger.warn({ err: error, requestId, route }, 'gateway: upstream failed');
    const headers: Record<string, string> = {};
    const retryAfterMs = (error as { retryAfterMs?: number }).retryAfterMs;
    if (code === 'NOA_SERVICE_CIRCUIT_OPEN')
      headers['retry-after'] = String(Math.max(1, Math.ceil((retryAfterMs ?? 1_000) / 1_000)));
    sendJson(
      res,
      requestId,
      status,
      { error: status === 413 ? 'request body too large' : 'upstream unavailable', code, requestId },
      headers,
    );
  }

  /** Path + query, parsed and normalised, or an error already sent. */
  #target(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
  ): { segments: string[]; query: string } | undefined {
    const url = req.url ?? '/';
    if (url.length > this.#limits.urlBytes) {
      sendJson(res, requestId, 414, { error: 'request target too long' });
      return undefined;
    }
    const q = url.indexOf('?');
    const normalized = normalizePath(q === -1 ? url : url.slice(0, q));
    if ('error' in normalized) {
      sendJson(res, requestId, 400, { error: normalized.error });
      return undefined;
    }
    return { segments: normalized.segments, query: q === -1 ? '' : url.slice(q) };
  }

  /** Whose budget a request spends: the key function's, the user's (else the IP's) or the IP's. */
  #rateKey(key: RouteRateLimit['key'], req: IncomingMessage, subject: string | undefined): string {
    if (typeof key === 'function') return key(req);
    if (key === 'user' && subject) return `user:${subject}`;
    return `ip:${clientIp(req, this.#options.trustProxy ?? false)}`;
  }

  async #admit(
    compiled: CompiledRoute,
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
  ): Promise<{ subject?: string; headers?: Record<string, string> } | undefined> {
    let subject: string | undefined;
    let headers: Record<string, string> | undefined;
    if (compiled.auth) {
      const result = await compiled.auth.authenticate(req);
      if (!result.ok) {
        sendJson(
          res,
          requestId,
          result.status,
          { error: result.error },
          { 'www-authenticate': result.challenge },
        );
        return undefined;
      }
      subject = result.subject;
      headers = result.headers;
    }
    if (compiled.limiter) {
      const { limiter, key, headers: style } = compiled.limiter;
      const decision = await limiter.consume(this.#rateKey(key, req, subject));
      const h = rateLimitHeaders(
        style,
        [{ rule: compiled.name, policy: limiter.policy, decision }],
        Date.now(),
      );
      for (const name in h) res.setHeader(name, h[name]!);
      if (!decision.allowed) {
        sendJson(
          res,
          requestId,
          429,
          { error: 'too many requests' },
          { 'retry-after': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1_000))) },
        );
        return undefined;
      }
    }
    return { subject, headers };
  }

  async #handle(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    state: { route: string },
  ): Promise<void> {
    if (this.#cors) {
      res.setHeader('x-request-id', requestId); // CORS sets its headers progressively anyway
      if (this.#cors.handle(req, res)) return;
    }
    const target = this.#target(req, res, requestId);
    if (!target) return;
    if (
      this.#aggregated &&
      (await this.#aggregator.handle(req, res, target.segments, requestId, (name) => (state.route = name)))
    )
      return;
    const compiled = this.#match(target.segments, req);
    if (!compiled) return sendJson(res, requestId, 404, { error: 'no route', requestId });
    state.route = compiled.name;
    const method = req.method ?? 'GET';
    if (compiled.methods && !compiled.methods.has(method)) {
      return sendJson(
        res,
        requestId,
        405,
        { error: 'method not allowed' },
        { allow: [...compiled.methods].join(', ') },
      );
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.#limits.bodyBytes)
      return sendJson(res, requestId, 413, { error: 'request body too large', requestId });
    const admitted =
      compiled.auth || compiled.limiter ? await this.#admit(compiled, req, res, requestId) : OPEN;
    if (!admitted) return;

    const { route } = compiled;
    const rest = route.stripPrefix ? target.segments.slice(compiled.prefix.length) : target.segments;
    const headers = upstreamHeaders(req, {
      skip: this.#skip,
      add: admitted.headers,
      prefix: compiled.strippedPrefix,
    });
    headers['x-request-id'] = requestId;
    if (route.version) headers['x-api-version'] = route.version;
    const ctx: RequestTransformContext = {
      req,
      route: compiled.name,
      method,
      path: joinSegments(rest) + target.query,
      headers,
      subject: admitted.subject,
    };
    if (route.transform?.request) await route.transform.request(ctx);
    const body = hasBody(req) ? limitBody(req, this.#limits.bodyBytes) : undefined;
    // No AbortSignal here: one per request costs measurable CPU, and the timeout bounds the wait.
    const upstream = await compiled.client.proxy({
      method: ctx.method,
      path: ctx.path,
      headers: ctx.headers,
      body,
      requestId,
    });
    const outHeaders = downstreamHeaders(upstream.headers) as ResponseTransformContext['headers'];
    if (route.transform?.response) {
      const rctx: ResponseTransformContext = {
        req,
        route: compiled.name,
        status: upstream.status,
        headers: outHeaders,
      };
      await route.transform.response(rctx);
      upstream.status = rctx.status;
    }
    if (res.destroyed) {
      upstream.body.destroy();
      return;
    }
    outHeaders['x-request-id'] = requestId;
    res.writeHead(upstream.status, outHeaders as Record<string, string>);
    // Straight from undici's callbacks into the response: no Readable and no pipe() in between.
    upstream.body.pipeTo(res);
  }

  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    const refuse = (status: string, extra = '') => {
      if (socket.writable)
        socket.end(`HTTP/1.1 ${status}\r\n${extra}connection: close\r\ncontent-length: 0\r\n\r\n`);
      else socket.destroy();
    };
    try {
      const url = req.url ?? '/';
      if (url.length > this.#limits.urlBytes) return refuse('414 URI Too Long');
      const q = url.indexOf('?');
      const normalized = normalizePath(q === -1 ? url : url.slice(0, q));
      if ('error' in normalized) return refuse('400 Bad Request');
      const compiled = this.#match(normalized.segments, req);
      if (!compiled || compiled.route.websocket === false) return refuse('404 Not Found');
      let verified: Record<string, string> | undefined;
      let subject: string | undefined;
      if (compiled.auth) {
        const result = await compiled.auth.authenticate(req);
        if (!result.ok) return refuse('401 Unauthorized');
        verified = result.headers;
        subject = result.subject;
      }
      // A handshake spends the route's rate limit like any request, so connections are limited too.
      if (compiled.limiter) {
        const decision = await compiled.limiter.limiter.consume(
          this.#rateKey(compiled.limiter.key, req, subject),
        );
        if (!decision.allowed)
          return refuse(
            '429 Too Many Requests',
            `retry-after: ${Math.max(1, Math.ceil(decision.retryAfterMs / 1_000))}\r\n`,
          );
      }
      const rest = compiled.route.stripPrefix
        ? normalized.segments.slice(compiled.prefix.length)
        : normalized.segments;
      const instances = compiled.client.instances();
      if (instances.length === 0) return refuse('503 Service Unavailable');
      const instance = instances[Math.floor(Math.random() * instances.length)]!;
      const headers = upstreamHeaders(req, {
        skip: this.#skip,
        add: verified,
        upgrade: true,
      });
      proxyUpgrade(
        req,
        socket,
        head,
        instance,
        joinSegments(rest) + (q === -1 ? '' : url.slice(q)),
        headers,
        () => refuse('502 Bad Gateway'),
      );
    } catch (error) {
      this.#logger.warn({ err: error }, 'gateway: websocket upgrade failed');
      refuse('502 Bad Gateway');
    }
  }

  listen({
    port = 0,
    host = '127.0.0.1',
  }: {
    port?: number;
    host?: string;
  } = {}): Promise<{ port: number; url: string }> {
    invariant(!this.#closed, 'the gateway is closed', 'NOA_GATEWAY_CLOSED');
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const bound = (this.server.address() as AddressInfo).port;
        resolve({ port: bound, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}` });
      });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = this.server.listening
      ? new Promise<void>((resolve) => this.server.close(() => resolve()))
      : Promise.resolve();
    this.server.closeIdleConnections();
    for (const socket of this.#sockets) socket.destroy();
    const timer = setTimeout(() => this.server.closeAllConnections(), 5_000);
    timer.unref();
    await closed;
    clearTimeout(timer);
    await Promise.allSettled([
      ...this.#routes.map((r) => r.client.close()),
      ...this.#routes.map((r) => r.limiter?.limiter.close()),
      this.#aggregator.close(),
    ]);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * An API gateway on node:http: routes by path prefix to registry services through the resilient
 * service client (streaming, keep-alive, retries, circuit breakers), with JWT/API-key auth, rate
 * limits, CORS, aggregation, transforms, versioning, WebSocket upgrades, metrics and access logs.
 */
export function createGateway(options: GatewayOptions): Gateway {
  return new ApiGateway(options);
}
