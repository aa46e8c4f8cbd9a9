import type { Readable } from 'node:stream';
import {
  type BackoffOptions,
  backoffDelay,
  type CircuitBreaker,
  type CircuitBreakerOptions,
  createCircuitBreaker,
  invariant,
  isNoaError,
  type Logger,
  NoaError,
  noopLogger,
  sleep,
  TypedEventEmitter,
  validateBackoff,
} from '@noa/core';
import { Pool } from 'undici';
import { type Balancer, type BalancerName, type BalancerOptions, createBalancer } from './balancer.js';
import type { ServiceInstance } from './instance.js';
import { childTraceparent, requestIdFrom } from './internal/trace-context.js';
import { type OutlierDetectionOptions, OutlierDetector } from './outlier-detector.js';
import { type Discovery, type ServiceRegistry, validateServiceName } from './registry.js';

export interface RetryPolicy {
  /** Attempts in total, the first included. Default 3. */
  attempts?: number;
  /** Wait between attempts (each retry goes to another instance when there is one). Default 10-200 ms, full jitter. */
  backoff?: BackoffOptions;
  /** Statuses worth another attempt (idempotent requests only). Default 502, 503, 504. */
  statuses?: number[];
}

export interface ServiceClientOptions {
  registry: ServiceRegistry;
  service: string;
  /** Default 'round-robin'. */
  balancer?: BalancerName | Balancer;
  balancerOptions?: BalancerOptions;
  /** Bounds the wait for response headers and each pause in the response body, per attempt. Default 10 000. */
  timeoutMs?: number;
  /** `false` turns retries off. */
  retry?: RetryPolicy | false;
  /** One breaker per instance; `false` turns it off. Default failureThreshold 5, halfOpenAfterMs 10 000. */
  circuitBreaker?: CircuitBreakerOptions | false;
  /** `false` turns ejection off. */
  outlierDetection?: OutlierDetectionOptions | false;
  /** Only instances carrying all these tags. */
  tags?: string[];
  /** Keep-alive connections per instance. Default 64. */
  connections?: number;
  /** Idle keep-alive sockets close after this. Default 4 000. */
  keepAliveTimeoutMs?: number;
  /** Largest buffered response body for request(). Default 16 MiB. */
  maxResponseBytes?: number;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  logger?: Logger;
}

export type HeaderValue = string | string[] | undefined;

export interface ServiceRequest {
  /** Default GET. */
  method?: string;
  /** Path and query, starting with '/'. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, HeaderValue>;
  /** A string, bytes, or (stream() only, not retried once read) a readable stream. */
  body?: string | Uint8Array | Readable;
  /** Sent as JSON with content-type application/json. */
  json?: unknown;
  /** Overrides the client's timeoutMs. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Whether a retry is safe; default true for GET, HEAD, OPTIONS, PUT, DELETE, TRACE. */
  idempotent?: boolean;
  /** Propagated as x-request-id; default the incoming header or a new UUID. */
  requestId?: string;
  /** The caller's W3C traceparent (or the incoming header); a child span id is sent. */
  traceparent?: string;
}

export interface ServiceResponse {
  status: number;
  headers: Record<string, HeaderValue>;
  body: Buffer;
  /** The instance that answered. */
  instance: ServiceInstance;
  attempts: number;
  text(): string;
  json<T = unknown>(): T;
}

export interface ServiceStreamResponse extends Omit<ServiceResponse, 'body' | 'text' | 'json'> {
  /** The response body, streamed; consume or destroy it. */
  body: Readable;
}

export type ServiceClientEvents = {
  retry: [info: { attempt: number; instance: ServiceInstance; error: unknown }];
  eject: [info: { instance: ServiceInstance; durationMs: number }];
  'circuit-open': [instance: ServiceInstance];
};

export interface ServiceClient extends TypedEventEmitter<ServiceClientEvents> {
  readonly service: string;
  /** Sends a request and buffers the response body. */
  request(request: ServiceRequest): Promise<ServiceResponse>;
  /** Sends a request and streams the response body (retries happen only before headers arrive). */
  stream(request: ServiceRequest): Promise<ServiceStreamResponse>;
  /** The instances currently in rotation (healthy, not ejected). */
  instances(): ServiceInstance[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
// Errors where the request provably never reached the instance: safe to retry any method.
const NOT_SENT = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

interface Prepared {
  method: string;
  path: string;
  headers: Record<string, HeaderValue>;
  body: ServiceRequest['body'];
  timeoutMs: number;
  signal: AbortSignal | undefined;
  streamBody: boolean;
  idempotent: boolean;
}

/** Thrown inside the breaker so 5xx answers count as failures; carries the response out. */
class StatusFailure extends Error {
  constructor(readonly response: { status: number; headers: Record<string, HeaderValue>; body: Buffer | Readable }) {
    super(`upstream answered ${response.status}`);
  }
}

const errorCode = (error: unknown): string | undefined => {
  const e = error as { code?: string; cause?: { code?: string } };
  return e?.code ?? e?.cause?.code;
};

class Response implements ServiceResponse {
  constructor(
    readonly status: number,
    readonly headers: Record<string, HeaderValue>,
    readonly body: Buffer,
    readonly instance: ServiceInstance,
    readonly attempts: number,
  ) {}
  text(): string {
    return this.body.toString('utf8');
  }
  json<T = unknown>(): T {
    try {
      return JSON.parse(this.body.toString('utf8')) as T;
    } catch (cause) {
      throw new NoaError('NOA_SERVICE_INVALID_JSON', `${this.instance.name} answered ${this.status} with a body that is not JSON`, {
        cause,
      });
    }
  }
}

async function readBody(body: Readable, limit: number, service: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      body.destroy();
      throw new NoaError(
        'NOA_SERVICE_RESPONSE_TOO_LARGE',
        `${service} sent more than maxResponseBytes (${limit}); raise it or use stream()`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

class Client extends TypedEventEmitter<ServiceClientEvents> implements ServiceClient {
  readonly service: string;
  readonly #discovery: Discovery;
  readonly #balancer: Balancer;
  readonly #pools = new Map<string, Pool>();
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #breakerOptions: CircuitBreakerOptions | false;
  readonly #outliers: OutlierDetector | undefined;
  readonly #attempts: number;
  readonly #backoff: BackoffOptions;
  readonly #retryStatuses: Set<number>;
  readonly #timeoutMs: number;
  readonly #connections: number;
  readonly #keepAliveTimeoutMs: number;
  readonly #maxResponseBytes: number;
  readonly #headers: Record<string, string>;
  readonly #tags: string[];
  readonly #logger: Logger;
  #lastList: readonly ServiceInstance[] | undefined;
  #rotation: ServiceInstance[] = [];
  #closed = false;

  constructor(options: ServiceClientOptions) {
    super();
    invariant(options && typeof options.registry?.discover === 'function', 'createServiceClient: registry is required');
    validateServiceName(options.service);
    const {
      timeoutMs = 10_000,
      retry = {},
      circuitBreaker = {},
      outlierDetection = {},
      connections = 64,
      keepAliveTimeoutMs = 4_000,
      maxResponseBytes = 16 * 1024 * 1024,
      headers = {},
      tags = [],
      logger = noopLogger,
    } = options;
    invariant(Number.isFinite(timeoutMs) && timeoutMs > 0, 'createServiceClient: timeoutMs must be > 0');
    invariant(Number.isInteger(connections) && connections > 0, 'createServiceClient: connections must be an integer > 0');
    invariant(maxResponseBytes > 0, 'createServiceClient: maxResponseBytes must be > 0');
    const attempts = retry === false ? 1 : (retry.attempts ?? 3);
    invariant(Number.isInteger(attempts) && attempts >= 1, 'createServiceClient: retry.attempts must be an integer >= 1');
    this.#backoff = { delayMs: 10, maxDelayMs: 200, jitter: 'full', ...(retry ? retry.backoff : {}) };
    validateBackoff(this.#backoff);
    this.#retryStatuses = new Set(retry === false ? [] : (retry.statuses ?? [502, 503, 504]));
    this.service = options.service;
    this.#balancer = createBalancer(options.balancer, options.balancerOptions);
    this.#breakerOptions = circuitBreaker;
    if (circuitBreaker) createCircuitBreaker(circuitBreaker); // validates the options now, not on first use
    this.#outliers = outlierDetection ? new OutlierDetector(outlierDetection) : undefined;
    this.#attempts = attempts;
    this.#timeoutMs = timeoutMs;
    this.#connections = connections;
    this.#keepAliveTimeoutMs = keepAliveTimeoutMs;
    this.#maxResponseBytes = maxResponseBytes;
    this.#headers = headers;
    this.#tags = tags;
    this.#logger = logger;
    this.#discovery = options.registry.discover(options.service);
  }

  /** The healthy, tag-matching list; pools and balancer state of instances that left are dropped. */
  #current(): ServiceInstance[] {
    const list = this.#discovery.instances({ healthyOnly: true });
    if (list === this.#lastList) return this.#rotation;
    this.#lastList = list;
    const tags = this.#tags;
    this.#rotation = tags.length ? list.filter((i) => tags.every((t) => i.tags.includes(t))) : [...list];
    const ids = new Set(this.#rotation.map((i) => i.id));
    for (const [id, pool] of this.#pools) {
      if (ids.has(id)) continue;
      this.#pools.delete(id);
      pool.close().catch(() => {});
    }
    for (const id of this.#breakers.keys()) if (!ids.has(id)) this.#breakers.delete(id);
    this.#outliers?.retain(ids);
    this.#balancer.retain?.(ids);
    return this.#rotation;
  }

  instances(): ServiceInstance[] {
    return this.#current().filter((i) => !this.#outliers?.isEjected(i.id));
  }

  #breaker(instance: ServiceInstance): CircuitBreaker | undefined {
    if (!this.#breakerOptions) return undefined;
    let breaker = this.#breakers.get(instance.id);
    if (!breaker) {
      breaker = createCircuitBreaker({
        name: `${this.service} instance ${instance.id}`,
        ...this.#breakerOptions,
        isFailure: (error) => !isNoaError(error, 'NOA_ABORTED') && (this.#breakerOptions ? (this.#breakerOptions.isFailure?.(error) ?? true) : true),
      });
      breaker.on('open', () => {
        this.#logger.warn({ service: this.service, instance: instance.id }, 'service client: circuit opened');
        this.emit('circuit-open', instance);
      });
      this.#breakers.set(instance.id, breaker);
    }
    return breaker;
  }

  #pool(instance: ServiceInstance): Pool {
    let pool = this.#pools.get(instance.id);
    if (!pool) {
      const host = instance.address.includes(':') ? `[${instance.address}]` : instance.address;
      pool = new Pool(`http://${host}:${instance.port}`, {
        connections: this.#connections,
        keepAliveTimeout: this.#keepAliveTimeoutMs,
        pipelining: 1,
      });
      this.#pools.set(instance.id, pool);
    }
    return pool;
  }

  #choose(tried: ReadonlySet<string>): ServiceInstance {
    const all = this.#current();
    if (all.length === 0) {
      throw new NoaError(
        'NOA_SERVICE_NO_INSTANCES',
        `no healthy instance of "${this.service}" is registered${this.#tags.length ? ` with tags ${this.#tags.join(', ')}` : ''}; start one or check its health endpoint`,
      );
    }
    const usable = (i: ServiceInstance) =>
      !this.#outliers?.isEjected(i.id) && (!this.#breakerOptions || this.#breaker(i)!.state !== 'open');
    let candidates = tried.size === 0 ? all.filter(usable) : all.filter((i) => !tried.has(i.id) && usable(i));
    if (candidates.length === 0 && tried.size > 0) candidates = all.filter(usable);
    if (candidates.length === 0) {
      // Everything ejected: ejection must not cause an outage, so fall back to breaker state alone.
      candidates = this.#breakerOptions ? all.filter((i) => this.#breaker(i)!.state !== 'open') : all;
    }
    if (candidates.length === 0) {
      throw new NoaError(
        'NOA_SERVICE_CIRCUIT_OPEN',
        `every instance of "${this.service}" has an open circuit after repeated failures; retry later or use a fallback`,
      );
    }
    return this.#balancer.pick(candidates);
  }

  #prepare(request: ServiceRequest): Prepared {
    invariant(!this.#closed, `the client for "${this.service}" is closed`, 'NOA_SERVICE_CLOSED');
    invariant(request && typeof request.path === 'string' && request.path.startsWith('/'), 'request: path must start with "/"', 'NOA_SERVICE_INVALID_REQUEST');
    invariant(!/[\s\0]/.test(request.path), 'request: path must not contain whitespace; encode it', 'NOA_SERVICE_INVALID_REQUEST');
    const method = (request.method ?? 'GET').toUpperCase();
    invariant(TOKEN.test(method), `request: invalid method ${JSON.stringify(request.method)}`, 'NOA_SERVICE_INVALID_REQUEST');
    const timeoutMs = request.timeoutMs ?? this.#timeoutMs;
    invariant(Number.isFinite(timeoutMs) && timeoutMs > 0, 'request: timeoutMs must be > 0', 'NOA_SERVICE_INVALID_REQUEST');
    let path = request.path;
    if (request.query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(request.query)) if (value !== undefined) params.append(key, String(value));
      const qs = params.toString();
      if (qs) path += (path.includes('?') ? '&' : '?') + qs;
    }
    const headers: Record<string, HeaderValue> = { ...this.#headers, ...request.headers };
    let body = request.body;
    if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      headers['content-type'] ??= 'application/json';
    }
    headers['x-request-id'] = request.requestId ?? requestIdFrom(headers['x-request-id']);
    const incoming = request.traceparent ?? headers.traceparent;
    headers.traceparent = childTraceparent(Array.isArray(incoming) ? incoming[0] : incoming);
    const streamBody = body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array);
    return {
      method,
      path,
      headers,
      body,
      timeoutMs,
      signal: request.signal,
      streamBody,
      idempotent: request.idempotent ?? IDEMPOTENT.has(method),
    };
  }

  request(request: ServiceRequest): Promise<ServiceResponse> {
    return this.#send(request, false) as Promise<ServiceResponse>;
  }

  stream(request: ServiceRequest): Promise<ServiceStreamResponse> {
    return this.#send(request, true) as Promise<ServiceStreamResponse>;
  }

  async #send(request: ServiceRequest, streaming: boolean): Promise<ServiceResponse | ServiceStreamResponse> {
    const req = this.#prepare(request);
    invariant(streaming || !req.streamBody, 'request: a stream body needs stream(); request() bodies must be strings or bytes', 'NOA_SERVICE_INVALID_REQUEST');
    if (req.signal?.aborted) throw new NoaError('NOA_ABORTED', `request to ${this.service} was aborted`, { cause: req.signal.reason });
    if (!this.#lastList) await this.#ready(req.timeoutMs, req.signal);
    const tried = new Set<string>();
    let lastError: unknown;
    for (let attempt = 1; ; attempt++) {
      const instance = this.#choose(tried);
      tried.add(instance.id);
      const breaker = this.#breaker(instance);
      const started = performance.now();
      this.#balancer.onStart(instance);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        this.#balancer.onEnd(instance, performance.now() - started);
      };
      try {
        const call = () => this.#attempt(instance, req, streaming, end);
        const result = breaker ? await breaker.execute(call) : await call();
        this.#outliers?.success(instance.id);
        if (streaming) return { ...result, body: result.body as Readable, instance, attempts: attempt };
        end();
        return new Response(result.status, result.headers, result.body as Buffer, instance, attempt);
      } catch (error) {
        end();
        if (req.signal?.aborted) throw new NoaError('NOA_ABORTED', `request to ${this.service} was aborted`, { cause: req.signal.reason });
        const rejected = isNoaError(error, 'NOA_CIRCUIT_OPEN');
        if (!rejected) this.#recordFailure(instance, error);
        const status = error instanceof StatusFailure ? error.response.status : undefined;
        const retryable =
          attempt < this.#attempts &&
          (!req.streamBody || !(req.body as Readable).readableDidRead) &&
          (rejected ||
            NOT_SENT.has(errorCode(error) ?? '') ||
            (req.idempotent && (status === undefined ? !(error instanceof NoaError) || isNoaError(error, 'NOA_SERVICE_TIMEOUT') : this.#retryStatuses.has(status))));
        if (!retryable) {
          if (error instanceof StatusFailure) {
            const r = error.response;
            if (streaming) return { status: r.status, headers: r.headers, body: r.body as Readable, instance, attempts: attempt };
            return new Response(r.status, r.headers, r.body as Buffer, instance, attempt);
          }
          throw this.#finalError(error, instance, attempt);
        }
        if (error instanceof StatusFailure && streaming) (error.response.body as Readable).destroy();
        lastError = error;
        this.emit('retry', { attempt, instance, error });
        const delayMs = backoffDelay(this.#backoff, attempt);
        if (delayMs > 0) await sleep(delayMs, req.signal).catch(() => {});
        if (req.signal?.aborted) throw new NoaError('NOA_ABORTED', `request to ${this.service} was aborted`, { cause: lastError });
      }
    }
  }

  async #ready(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    const abort = signal ? new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })) : undefined;
    await Promise.race([this.#discovery.ready, timeout, ...(abort ? [abort] : [])]);
    clearTimeout(timer);
  }

  #recordFailure(instance: ServiceInstance, error: unknown): void {
    if (!this.#outliers) return;
    const status = error instanceof StatusFailure ? error.response.status : 0;
    if (error instanceof StatusFailure && status < 500) return;
    const durationMs = this.#outliers.failure(instance.id, this.#current().length);
    if (durationMs !== undefined) {
      this.#logger.warn({ service: this.service, instance: instance.id, durationMs }, 'service client: instance ejected');
      this.emit('eject', { instance, durationMs });
    }
  }

  #finalError(error: unknown, instance: ServiceInstance, attempts: number): unknown {
    if (isNoaError(error)) return error;
    const code = errorCode(error);
    const where = `${this.service} (${instance.address}:${instance.port}) after ${attempts} attempt(s)`;
    if (TIMEOUTS.has(code ?? ''))
      return new NoaError('NOA_SERVICE_TIMEOUT', `request to ${where} timed out; raise timeoutMs or check the instance`, { cause: error });
    return new NoaError('NOA_SERVICE_UNAVAILABLE', `request to ${where} failed: ${(error as Error)?.message ?? error}`, {
      cause: error,
    });
  }

  async #attempt(
    instance: ServiceInstance,
    req: Prepared,
    streaming: boolean,
    end: () => void,
  ): Promise<{ status: number; headers: Record<string, HeaderValue>; body: Buffer | Readable }> {
    let response: Awaited<ReturnType<Pool['request']>>;
    try {
      response = await this.#pool(instance).request({
        method: req.method as 'GET',
        path: req.path,
        headers: req.headers as Record<string, string>,
        body: req.body as string,
        signal: req.signal,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
    } catch (error) {
      if (TIMEOUTS.has(errorCode(error) ?? ''))
        throw new NoaError('NOA_SERVICE_TIMEOUT', `${this.service} did not answer within ${req.timeoutMs} ms`, { cause: error });
      throw error;
    }
    const headers = response.headers as Record<string, HeaderValue>;
    if (streaming) {
      response.body.once('close', end);
      if (response.statusCode >= 500) throw new StatusFailure({ status: response.statusCode, headers, body: response.body });
      return { status: response.statusCode, headers, body: response.body as Readable };
    }
    let body: Buffer;
    try {
      body = await readBody(response.body, this.#maxResponseBytes, this.service);
    } catch (error) {
      if (TIMEOUTS.has(errorCode(error) ?? ''))
        throw new NoaError('NOA_SERVICE_TIMEOUT', `${this.service} stalled sending its body for ${req.timeoutMs} ms`, { cause: error });
      throw error;
    }
    if (response.statusCode >= 500) throw new StatusFailure({ status: response.statusCode, headers, body });
    return { status: response.statusCode, headers, body };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#discovery.close();
    await Promise.allSettled([...this.#pools.values()].map((pool) => pool.close()));
    this.#pools.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A client for one service: discovery from the registry's local cache, a balancer, undici pools
 * with keep-alive per instance, timeouts, retries (idempotent requests, or any request that provably
 * never left), a circuit breaker per instance and outlier ejection, with x-request-id and W3C
 * traceparent propagation.
 */
export function createServiceClient(options: ServiceClientOptions): ServiceClient {
  return new Client(options);
}
