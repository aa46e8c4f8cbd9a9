import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type HealthCheck,
  invariant,
  isNoaError,
  type Logger,
  NoaError,
  noopLogger,
  runHealthChecks,
} from '@noa/core';
import type { HealthCheckSpec as InstanceCheck } from './instance.js';
import { Router } from './internal/http-router.js';
import { requestIdFrom } from './internal/trace-context.js';
import { type Registration, type ServiceRegistry, validateServiceName } from './registry.js';

/** A reply with a status and headers; return `respond(...)` from a route handler. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body?: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** Builds a reply: objects are sent as JSON, strings and bytes as they are. */
export const respond = (status: number, body?: unknown, headers?: Record<string, string>): Reply =>
  new Reply(status, body, headers);

export interface RouteContext {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Parsed JSON when the request sent JSON, otherwise the raw bytes (undefined without a body). */
  body: unknown;
  requestId: string;
  req: IncomingMessage;
  res: ServerResponse;
}

/** Returns the JSON body (200, or 204 for undefined) or a `respond(status, body, headers)`. */
export type RouteHandler = (ctx: RouteContext) => unknown;

export interface CreateServiceOptions {
  name: string;
  /** Default 0 (a free port). */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Address registered for clients. Default `host` (127.0.0.1 when listening on all interfaces). */
  advertiseAddress?: string;
  /** `'METHOD /path/:param'` → handler. */
  routes?: Record<string, RouteHandler>;
  /** A plain node:http handler for requests no route matches (e.g. Fastify's `app.routing` or Express). */
  fallback?: (req: IncomingMessage, res: ServerResponse) => void;
  registry?: ServiceRegistry;
  tags?: string[];
  meta?: Record<string, string>;
  weight?: number;
  /** The registry check. Default: the health endpoint every 10 s. */
  check?: InstanceCheck;
  /** Default '/health'. */
  healthPath?: string;
  /** Checks the health endpoint runs (a failing one answers 503). */
  healthChecks?: HealthCheck[];
  /** After deregistering, keep serving this long so clients' caches catch up. Default 0. */
  drainMs?: number;
  /** In-flight requests get this long to finish on stop() before connections are cut. Default 10 000. */
  shutdownTimeoutMs?: number;
  /** Signals that stop the service gracefully. Default ['SIGTERM']; `false` for none. */
  signals?: NodeJS.Signals[] | false;
  /** Largest request body the routes accept. Default 1 MiB. */
  maxBodyBytes?: number;
  logger?: Logger;
}

export interface Service {
  readonly name: string;
  /** The bound port (after start). */
  readonly port: number;
  readonly url: string;
  readonly server: Server;
  readonly registration: Registration | undefined;
  /** Listen, then register. */
  start(): Promise<void>;
  /** Deregister, drain, close (in-flight requests finish). */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit)
    throw new NoaError('NOA_SERVICE_BODY_TOO_LARGE', `request body exceeds ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new NoaError('NOA_SERVICE_BODY_TOO_LARGE', `request body exceeds ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return size ? Buffer.concat(chunks, size) : undefined;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const isRaw = typeof body === 'string' || body instanceof Uint8Array;
  const payload = isRaw ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': isRaw ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': String(Buffer.byteLength(payload as string)),
    ...headers,
  });
  res.end(payload);
}

class HttpService implements Service {
  readonly name: string;
  readonly server: Server;
  #registration: Registration | undefined;
  #port = 0;
  #address: string;
  #draining = false;
  readonly #inFlight = new Set<ServerResponse>();
  #stopping: Promise<void> | undefined;
  #signalHandlers: [NodeJS.Signals, () => void][] = [];
  readonly #router = new Router<RouteHandler>();
  readonly #options: CreateServiceOptions;
  readonly #logger: Logger;

  constructor(options: CreateServiceOptions) {
    validateServiceName(options?.name);
    const {
      port = 0,
      drainMs = 0,
      shutdownTimeoutMs = 10_000,
      maxBodyBytes = 1024 * 1024,
      healthPath = '/health',
    } = options;
    invariant(Number.isInteger(port) && port >= 0 && port < 65_536, 'createService: port must be 0-65535');
    invariant(
      drainMs >= 0 && shutdownTimeoutMs >= 0,
      'createService: drainMs and shutdownTimeoutMs must be >= 0',
    );
    invariant(maxBodyBytes > 0, 'createService: maxBodyBytes must be > 0');
    invariant(healthPath.startsWith('/'), 'createService: healthPath must start with "/"');
    this.name = options.name;
    this.#options = options;
    this.#logger = options.logger ?? noopLogger;
    const host = options.host ?? '127.0.0.1';
    this.#address = options.advertiseAddress ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
    for (const [key, handler] of Object.entries(options.routes ?? {})) {
      invariant(typeof handler === 'function', `createService: route "${key}" needs a handler function`);
      try {
        this.#router.add(key, handler);
      } catch (error) {
        throw new NoaError('NOA_INVALID_OPTION', `createService: ${(error as Error).message}`);
      }
    }
    this.server = createServer((req, res) => void this.#handle(req, res));
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    const host = this.#address.includes(':') ? `[${this.#address}]` : this.#address;
    return `http://${host}:${this.#port}`;
  }

  get registration(): Registration | undefined {
    return this.#registration;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    if (this.#draining) res.shouldKeepAlive = false;
    this.#inFlight.add(res);
    res.once('close', () => this.#inFlight.delete(res));
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://service');
    } catch {
      // e.g. `GET //[ HTTP/1.1`: node:http passes any target through; a bad one must not crash the process.
      return send(res, 400, { error: 'malformed request target' });
    }
    const healthPath = this.#options.healthPath ?? '/health';
    try {
      if (url.pathname === healthPath && (req.method === 'GET' || req.method === 'HEAD')) {
        const report = await runHealthChecks(this.#options.healthChecks ?? []);
        const status = this.#draining ? 'fail' : report.status;
        return send(res, status === 'fail' ? 503 : 200, { ...report, status, draining: this.#draining });
      }
      const found = this.#router.find(req.method ?? 'GET', url.pathname);
      if (found === undefined || found === 'method-not-allowed') {
        if (this.#options.fallback) return this.#options.fallback(req, res);
        return found
          ? send(res, 405, { error: 'method not allowed' })
          : send(res, 404, { error: 'not found' });
      }
      const raw = await readRequestBody(req, this.#options.maxBodyBytes ?? 1024 * 1024);
      let body: unknown = raw;
      if (raw && /\bjson\b/.test(req.headers['content-type'] ?? '')) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          return send(res, 400, { error: 'request body is not valid JSON' });
        }
      }
      const result = await found.value({
        method: req.method ?? 'GET',
        path: url.pathname,
        params: found.params,
        query: url.searchParams,
        headers: req.headers,
        body,
        requestId,
        req,
        res,
      });
      if (res.writableEnded) return;
      if (result instanceof Reply) return send(res, result.status, result.body, result.headers);
      send(res, result === undefined ? 204 : 200, result);
    } catch (error) {
      if (isNoaError(error, 'NOA_SERVICE_BODY_TOO_LARGE')) return send(res, 413, { error: error.message });
      this.#logger.error({ err: error, service: this.name, requestId }, 'service: route failed');
      send(res, 500, { error: 'internal error', requestId });
    }
  }

  async start(): Promise<void> {
    invariant(
      !this.server.listening,
      `service ${this.name} is already started`,
      'NOA_SERVICE_ALREADY_STARTED',
    );
    const { port = 0, host = '127.0.0.1' } = this.#options;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.server.address() as AddressInfo).port;
    this.#draining = false;
    this.#stopping = undefined;
    const { registry } = this.#options;
    if (registry) {
      try {
        this.#registration = await registry.register({
          name: this.name,
          address: this.#address,
          port: this.#port,
          tags: this.#options.tags,
          meta: this.#options.meta,
          weight: this.#options.weight,
          check: this.#options.check ?? {
            http: `${this.url}${this.#options.healthPath ?? '/health'}`,
            intervalMs: 10_000,
          },
        });
      } catch (error) {
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
        throw error;
      }
    }
    for (const signal of this.#options.signals === false ? [] : (this.#options.signals ?? ['SIGTERM'])) {
      const handler = () => {
        this.#logger.info({ service: this.name, signal }, 'service: stopping on signal');
        void this.stop().finally(() => {
          // Nobody else listens: re-raise so the process ends as the signal intends.
          if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
        });
      };
      process.once(signal, handler);
      this.#signalHandlers.push([signal, handler]);
    }
    this.#logger.info({ service: this.name, url: this.url }, 'service started');
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    for (const [signal, handler] of this.#signalHandlers.splice(0)) process.off(signal, handler);
    this.#draining = true;
    try {
      await this.#registration?.deregister();
    } catch (error) {
      this.#logger.warn(
        { err: error, service: this.name },
        'service: deregister failed (its TTL/check will remove it)',
      );
    }
    this.#registration = undefined;
    const { drainMs = 0, shutdownTimeoutMs = 10_000 } = this.#options;
    if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Requests still running answer with `Connection: close`, so their sockets end with them.
    for (const res of this.#inFlight) {
      if (!res.headersSent) res.shouldKeepAlive = false;
      else res.once('finish', () => setImmediate(() => this.server.closeIdleConnections()));
    }
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), shutdownTimeoutMs);
    timer.unref();
    await closed;
    clearTimeout(timer);
    this.#logger.info({ service: this.name }, 'service stopped');
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * An HTTP service with a lifecycle: start = listen + register (with a health check on the health
 * endpoint), stop = deregister + drain + close with in-flight requests finishing; SIGTERM stops it.
 */
export function createService(options: CreateServiceOptions): Service {
  return new HttpService(options);
}
