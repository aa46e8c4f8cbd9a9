import type { Readable } from 'node:stream';
import {
  type BackoffOptions,
  backoffDelay,
  type CircuitBreakerOptions,
  invariant,
  isNoaError,
  type Logger,
  NoaError,
  noopLogger,
  sleep,
  TypedEventEmitter,
} from '@noa/core';
import { Pool } from 'undici';
import { type Balancer, type BalancerName, type BalancerOptions, createBalancer } from './balancer.js';
import type { ServiceInstance } from './instance.js';
import { resolveClientBasics } from './internal/client-options.js';
import { BufferedExchange, ProxyExchange } from './internal/exchanges.js';
import { InstancePicker, type OutcomeReport } from './internal/instance-picker.js';
import { childTraceparent, requestIdFrom } from './internal/trace-context.js';
import type { OutlierDetectionOptions } from './outlier-detector.js';
import type { Discovery, ServiceRegistry } from './registry.js';

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

/** The gateway's response shape: the body goes straight into a ServerResponse (see ProxyExchange). */
export interface ProxiedResponse extends Omit<ServiceStreamResponse, 'body'> {
  body: ProxyExchange;
}

/**
 * A request body that can tell its upload failed on the caller's side (the gateway's body limit, a
 * client that went away): such a failure says nothing about the instance. Internal, like proxy().
 */
export interface UploadStream extends Readable {
  callerError?: Error;
}

/** The client plus the gateway's proxy path (internal: the package does not export it). */
export interface ProxyingServiceClient extends ServiceClient {
  /** Like stream(), with a body to pipeTo() a ServerResponse instead of a Readable. */
  proxy(request: Omit<ServiceRequest, 'signal'>): Promise<ProxiedResponse>;
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
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const TIMEOUTS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const UNSAFE_PATH = /[\s\0]/;

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

/** What one attempt produced, before it becomes a response. */
interface Exchange {
  status: number;
  headers: Record<string, HeaderValue>;
  body: Buffer | Readable | ProxyExchange;
}

/** request() buffers the body, stream() hands out undici's Readable, proxy() a ProxyExchange. */
type Mode = 0 | 1 | 2;
const BUFFER = 0;
const STREAM = 1;
const PROXY = 2;

/** Drops a response body that will not be used. */
function discard(body: Buffer | Readable | ProxyExchange): void {
  if (body instanceof ProxyExchange) body.destroy();
  // A destroyed undici body emits an abort error: listen so it cannot go unhandled.
  else if (!Buffer.isBuffer(body)) body.on('error', () => {}).destroy();
}

/** Thrown for 5xx answers so they count as failures (breaker, ejection, retries); carries the response out. */
class StatusFailure extends Error {
  constructor(readonly response: Exchange) {
    super(`upstream answered ${response.status}`);
  }
}

const invalidRequest = (message: string) =>
  new NoaError('NOA_SERVICE_INVALID_REQUEST', `request: ${message}`);

const abortedError = (service: string, reason: unknown) =>
  new NoaError('NOA_ABORTED', `request to ${service} was aborted`, { cause: reason });

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
      throw new NoaError(
        'NOA_SERVICE_INVALID_JSON',
        `${this.instance.name} answered ${this.status} with a body that is not JSON`,
        {
          cause,
        },
      );
    }
  }
}

class Client extends TypedEventEmitter<ServiceClientEvents> implements ProxyingServiceClient {
  readonly service: string;
  readonly #discovery: Discovery;
  readonly #picker: InstancePicker;
  readonly #pools = new Map<string, Pool>();
  readonly #attempts: number;
  readonly #backoff: BackoffOptions;
  readonly #retryStatuses: Set<number>;
  readonly #timeoutMs: number;
  readonly #connections: number;
  readonly #keepAliveTimeoutMs: number;
  readonly #maxResponseBytes: number;
  /** Undefined without default headers (the common case skips a copy). */
  readonly #headers: Record<string, string> | undefined;
  #closed = false;

  constructor(options: ServiceClientOptions) {
    super();
    const { attempts, backoff } = resolveClientBasics('createServiceClient', options);
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
    invariant(
      Number.isInteger(connections) && connections > 0,
      'createServiceClient: connections must be an integer > 0',
    );
    invariant(maxResponseBytes > 0, 'createServiceClient: maxResponseBytes must be > 0');
    this.#backoff = backoff;
    this.#retryStatuses = new Set(retry === false ? [] : (retry.statuses ?? [502, 503, 504]));
    this.service = options.service;
    this.#attempts = attempts;
    this.#timeoutMs = timeoutMs;
    this.#connections = connections;
    this.#keepAliveTimeoutMs = keepAliveTimeoutMs;
    this.#maxResponseBytes = maxResponseBytes;
    this.#headers = Object.keys(headers).length ? { ...headers } : undefined;
    this.#discovery = options.registry.discover(options.service);
    this.#picker = new InstancePicker({
      service: options.service,
      discovery: this.#discovery,
      balancer: createBalancer(options.balancer, options.balancerOptions),
      circuitBreaker,
      outlierDetection,
      tags,
      onCircuitOpen: (instance) => {
        logger.warn({ service: this.service, instance: instance.id }, 'service client: circuit opened');
        this.emit('circuit-open', instance);
      },
      onEject: (instance, durationMs) => {
        logger.warn(
          { service: this.service, instance: instance.id, durationMs },
          'service client: instance ejected',
        );
        this.emit('eject', { instance, durationMs });
      },
      onRemoved: (ids) => {
        for (const id of ids) {
          this.#pools
            .get(id)
            ?.close()
            .catch(() => {});
          this.#pools.delete(id);
        }
      },
    });
  }

  instances(): ServiceInstance[] {
    return this.#picker.instances();
  }

  #pool(instance: ServiceInstance): Pool {
    let pool = this.#pools.get(instance.id);
    if (!pool) {
      const host = instance.address.includes(':') ? `[${instance.address}]` : instance.address;
      pool = new Pool(`http://${host}:${instance.port}`, {
        connections: this.#connections,
        keepAliveTimeout: this.#keepAliveTimeoutMs,
        pipelining: 1,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      this.#pools.set(instance.id, pool);
    }
    return pool;
  }

  /** `owned`: the caller hands over its headers object (the gateway's fresh copy), so none is made. */
  #prepare(request: ServiceRequest, owned: boolean): Prepared {
    // Plain ifs, not invariant() or a local helper: no message or closure is built on this hot path.
    if (this.#closed) throw new NoaError('NOA_SERVICE_CLOSED', `the client for "${this.service}" is closed`);
    if (!request || typeof request.path !== 'string' || request.path.charCodeAt(0) !== 47)
      throw invalidRequest('path must start with "/"');
    if (UNSAFE_PATH.test(request.path))
      throw invalidRequest('path must not contain whitespace or NUL; encode it');
    const method = request.method === undefined ? 'GET' : request.method.toUpperCase();
    if (method !== 'GET' && !TOKEN.test(method))
      throw invalidRequest(`invalid method ${JSON.stringify(request.method)}`);
    const timeoutMs = request.timeoutMs ?? this.#timeoutMs;
    if (!(timeoutMs > 0 && timeoutMs < Number.POSITIVE_INFINITY))
      throw invalidRequest('timeoutMs must be > 0');
    let path = request.path;
    if (request.query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(request.query))
        if (value !== undefined) params.append(key, String(value));
      const qs = params.toString();
      if (qs) path += (path.includes('?') ? '&' : '?') + qs;
    }
    // A copy (never the caller's object), and in the common case one literal with a fixed shape.
    const defaults = this.#headers;
    const given = defaults ? { ...defaults, ...request.headers } : request.headers;
    const requestId = request.requestId ?? requestIdFrom(given?.['x-request-id']);
    const incoming = request.traceparent ?? given?.traceparent;
    const traceparent = childTraceparent(Array.isArray(incoming) ? incoming[0] : incoming);
    let headers: Record<string, HeaderValue>;
    if (given === undefined) headers = { 'x-request-id': requestId, traceparent };
    else {
      headers = defaults || owned ? given : { ...given };
      headers['x-request-id'] = requestId;
      headers.traceparent = traceparent;
    }
    let body = request.body;
    if (request.json !== undefined) {
      body = JSON.stringify(request.json);
      headers['content-type'] ??= 'application/json';
    }
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
    return this.#send(request, BUFFER) as Promise<ServiceResponse>;
  }

  stream(request: ServiceRequest): Promise<ServiceStreamResponse> {
    return this.#send(request, STREAM) as Promise<ServiceStreamResponse>;
  }

  proxy(request: Omit<ServiceRequest, 'signal'>): Promise<ProxiedResponse> {
    return this.#send(request, PROXY) as Promise<ProxiedResponse>;
  }

  async #send(
    request: ServiceRequest,
    mode: Mode,
  ): Promise<ServiceResponse | ServiceStreamResponse | ProxiedResponse> {
    const req = this.#prepare(request, mode === PROXY);
    if (mode === BUFFER && req.streamBody)
      throw invalidRequest('a stream body needs stream(); request() bodies must be strings or bytes');
    if (req.signal?.aborted) throw abortedError(this.service, req.signal.reason);
    const picker = this.#picker;
    if (!picker.synced) await this.#ready(req.timeoutMs, req.signal);
    let tried: Set<string> | undefined; // allocated on the first retry only
    // One async function per request, as with undici alone: the attempt is inlined here rather than
    // wrapped in the breaker's execute() (see InstancePicker.gate) and a helper per phase.
    for (let attempt = 1; ; attempt++) {
      const instance = picker.choose(tried);
      const gate = picker.gate(instance);
      let report: OutcomeReport | undefined;
      let started: number | undefined;
      let status = 0;
      let headers: Record<string, HeaderValue> | undefined;
      let body: Buffer | Readable | ProxyExchange;
      try {
        if (gate) report = await picker.admit(gate);
        started = picker.start(instance);
        const options = {
          method: req.method as 'GET',
          path: req.path,
          headers: req.headers as Record<string, string>,
          body: req.body as string,
          signal: req.signal,
          // The pool's defaults are the client's timeoutMs: only an override is passed.
          headersTimeout: req.timeoutMs === this.#timeoutMs ? undefined : req.timeoutMs,
          bodyTimeout: req.timeoutMs === this.#timeoutMs ? undefined : req.timeoutMs,
        };
        let response: { statusCode: number; headers: unknown; body: Buffer | Readable | ProxyExchange };
        if (mode === BUFFER) {
          const exchange = new BufferedExchange(this.#maxResponseBytes, this.service, req.signal);
          this.#pool(instance).dispatch(options, exchange);
          response = await exchange.done;
        } else if (mode === PROXY) {
          const exchange = new ProxyExchange(req.streamBody ? (req.body as Readable) : undefined);
          this.#pool(instance).dispatch(options, exchange);
          response = await exchange.head;
        } else response = await this.#pool(instance).request(options);
        status = response.statusCode;
        headers = response.headers as Record<string, HeaderValue>;
        body = response.body;
        if (status >= 500) throw new StatusFailure({ status, headers, body });
      } catch (caught) {
        if (started !== undefined) picker.end(instance, started);
        (tried ??= new Set()).add(instance.id);
        const error = req.signal?.aborted
          ? abortedError(this.service, req.signal.reason)
          : TIMEOUTS.has(errorCode(caught) ?? '')
            ? new NoaError(
                'NOA_SERVICE_TIMEOUT',
                errorCode(caught) === 'UND_ERR_BODY_TIMEOUT'
                  ? `${this.service} stalled sending its body for ${req.timeoutMs} ms`
                  : `${this.service} did not answer within ${req.timeoutMs} ms`,
                { cause: caught },
              )
            : caught;
        const callerError = req.streamBody ? (req.body as UploadStream).callerError : undefined;
        if (callerError !== undefined || isNoaError(error, 'NOA_ABORTED')) {
          // The caller gave up or its upload failed: says nothing about the instance, but a trial
          // must still end (as a failure, so the circuit waits once more rather than closing on no evidence).
          report?.(true, caught);
          throw callerError ?? error;
        }
        const rejected = isNoaError(error, 'NOA_CIRCUIT_OPEN');
        if (!rejected) picker.failure(instance, error, report);
        const failedStatus = error instanceof StatusFailure ? error.response.status : undefined;
        const retryable =
          attempt < this.#attempts &&
          (!req.streamBody || !(req.body as Readable).readableDidRead) &&
          (rejected ||
            NOT_SENT.has(errorCode(error) ?? '') ||
            (req.idempotent &&
              (failedStatus === undefined
                ? !(error instanceof NoaError) || isNoaError(error, 'NOA_SERVICE_TIMEOUT')
                : this.#retryStatuses.has(failedStatus))));
        if (!retryable) {
          if (!(error instanceof StatusFailure)) throw this.#finalError(error, instance, attempt);
          return this.#respond(error.response, instance, attempt, mode);
        }
        if (error instanceof StatusFailure) discard(error.response.body);
        this.emit('retry', { attempt, instance, error });
        const delayMs = backoffDelay(this.#backoff, attempt);
        if (delayMs > 0) await sleep(delayMs, req.signal).catch(() => {});
        if (req.signal?.aborted) throw abortedError(this.service, req.signal.reason);
        continue;
      }
      picker.success(instance, report);
      if (mode === BUFFER) {
        picker.end(instance, started);
        return new Response(status, headers, body as Buffer, instance, attempt);
      }
      // The balancer's attempt lasts until the body is over.
      if (body instanceof ProxyExchange) body.onDone(() => picker.end(instance, started));
      else if ((body as Readable).destroyed) picker.end(instance, started);
      else (body as Readable).once('close', () => picker.end(instance, started));
      return { status, headers, body: body as Readable, instance, attempts: attempt };
    }
  }

  #respond(
    result: Exchange,
    instance: ServiceInstance,
    attempts: number,
    mode: Mode,
  ): ServiceResponse | ServiceStreamResponse {
    if (mode === BUFFER)
      return new Response(result.status, result.headers, result.body as Buffer, instance, attempts);
    return {
      status: result.status,
      headers: result.headers,
      body: result.body as Readable,
      instance,
      attempts,
    };
  }

  async #ready(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    const abort = signal
      ? new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
      : undefined;
    await Promise.race([this.#discovery.ready, timeout, ...(abort ? [abort] : [])]);
    clearTimeout(timer);
  }

  #finalError(error: unknown, instance: ServiceInstance, attempts: number): unknown {
    const where = `${this.service} (${instance.address}:${instance.port}) after ${attempts} attempt(s)`;
    // A half-open breaker that admits no more trials: the same code as "every circuit is open".
    if (isNoaError(error, 'NOA_CIRCUIT_OPEN'))
      return Object.assign(
        new NoaError(
          'NOA_SERVICE_CIRCUIT_OPEN',
          `${where}: the circuit is half-open and its trial requests are in flight; retry later`,
          { cause: error },
        ),
        { retryAfterMs: (error as { retryAfterMs?: number }).retryAfterMs },
      );
    if (isNoaError(error)) return error;
    const code = errorCode(error);
    if (TIMEOUTS.has(code ?? ''))
      return new NoaError(
        'NOA_SERVICE_TIMEOUT',
        `request to ${where} timed out; raise timeoutMs or check the instance`,
        { cause: error },
      );
    return new NoaError(
      'NOA_SERVICE_UNAVAILABLE',
      `request to ${where} failed: ${(error as Error)?.message ?? error}`,
      {
        cause: error,
      },
    );
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

/** createServiceClient() for the gateway, with proxy(). */
export function createProxyingClient(options: ServiceClientOptions): ProxyingServiceClient {
  return new Client(options);
}
