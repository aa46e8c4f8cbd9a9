import {
  type ChannelCredentials,
  Client,
  credentials as grpcCredentials,
  Metadata,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import {
  type BackoffOptions,
  backoffDelay,
  type CircuitBreakerOptions,
  invariant,
  isNoaError,
  NoaError,
  sleep,
} from '@noa/core';
import { protobufSerializer } from '@noa/core/protobuf';
import protobuf from 'protobufjs';
import { type Balancer, type BalancerName, createBalancer } from './balancer.js';
import type { ServiceInstance } from './instance.js';
import { resolveClientBasics } from './internal/client-options.js';
import { InstancePicker, type OutcomeReport } from './internal/instance-picker.js';
import { childTraceparent, requestIdFrom } from './internal/trace-context.js';
import type { OutlierDetectionOptions } from './outlier-detector.js';
import type { ServiceRegistry } from './registry.js';

/** One unary method of a protobufjs service, ready for @grpc/grpc-js clients and servers. */
export interface GrpcMethodDefinition {
  path: string;
  requestStream: false;
  responseStream: false;
  requestSerialize(value: unknown): Buffer;
  requestDeserialize(bytes: Buffer): unknown;
  responseSerialize(value: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
  originalName: string;
}

export type GrpcServiceDefinition = Record<string, GrpcMethodDefinition>;

const conversion: protobuf.IConversionOptions = { longs: String, enums: String, defaults: true };

function codec(type: protobuf.Type) {
  const serializer = protobufSerializer(type, conversion);
  return {
    serialize(value: unknown): Buffer {
      try {
        return Buffer.from(serializer.encode(value ?? {}));
      } catch (cause) {
        throw new NoaError('NOA_GRPC_INVALID_MESSAGE', `${type.fullName}: ${(cause as Error).message}`, {
          cause,
        });
      }
    },
    deserialize: (bytes: Buffer) => serializer.decode(bytes),
  };
}

function loadRoot(proto: protobuf.Root | string): protobuf.Root {
  if (proto instanceof protobuf.Root) return proto;
  invariant(
    typeof proto === 'string',
    'grpc: proto must be a protobufjs Root, a .proto file path or .proto source',
  );
  // Source text has a newline or a `syntax`/`service` keyword; anything else is a path.
  if (/[\n;{]/.test(proto)) return protobuf.parse(proto, { keepCase: true }).root;
  return protobuf.loadSync(proto);
}

/**
 * The @grpc/grpc-js service definition of `serviceName` (e.g. `demo.Users`) from protobufjs: use it
 * with `server.addService(definition, handlers)` on the server side. Unary methods only.
 */
export function grpcServiceDefinition(
  proto: protobuf.Root | string,
  serviceName: string,
): GrpcServiceDefinition {
  const root = loadRoot(proto);
  let service: protobuf.Service;
  try {
    service = root.lookupService(serviceName);
  } catch (cause) {
    throw new NoaError('NOA_GRPC_UNKNOWN_SERVICE', `grpc: the proto has no service "${serviceName}"`, {
      cause,
    });
  }
  const definition: GrpcServiceDefinition = {};
  for (const method of Object.values(service.methods)) {
    method.resolve();
    if (method.requestStream || method.responseStream) continue;
    const req = codec(method.resolvedRequestType!);
    const res = codec(method.resolvedResponseType!);
    definition[method.name] = {
      path: `/${service.fullName.replace(/^\./, '')}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: req.serialize,
      requestDeserialize: req.deserialize,
      responseSerialize: res.serialize,
      responseDeserialize: res.deserialize,
      originalName: method.name,
    };
  }
  return definition;
}

export interface GrpcClientOptions {
  registry: ServiceRegistry;
  /** The registry's service name, e.g. `users`. */
  service: string;
  /** A protobufjs Root, a .proto file path or .proto source. */
  proto: protobuf.Root | string;
  /** The protobuf service, e.g. `demo.Users`. */
  grpcService: string;
  /** Default 'round-robin'. */
  balancer?: BalancerName | Balancer;
  /** Deadline per call. Default 10 000. */
  timeoutMs?: number;
  retry?: { attempts?: number; backoff?: BackoffOptions } | false;
  circuitBreaker?: CircuitBreakerOptions | false;
  outlierDetection?: OutlierDetectionOptions | false;
  tags?: string[];
  /** Default insecure (plaintext), as inside a cluster network. */
  credentials?: ChannelCredentials;
}

export interface GrpcCallOptions {
  timeoutMs?: number;
  metadata?: Record<string, string>;
  /** Allow retrying after the server may have seen the call (UNAVAILABLE, DEADLINE_EXCEEDED). Default false. */
  idempotent?: boolean;
  requestId?: string;
  traceparent?: string;
}

export interface GrpcClient {
  readonly methods: string[];
  /** A unary call to the method (e.g. `GetUser`) on an instance chosen by the balancer. */
  call<Res = Record<string, unknown>>(
    method: string,
    request: Record<string, unknown>,
    options?: GrpcCallOptions,
  ): Promise<Res>;
  instances(): ServiceInstance[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

// Codes where the call did not reach application code: retry whatever the method.
const NOT_PROCESSED_DETAILS = /ECONNREFUSED|No connection established|Connection dropped|failed to connect/i;
const FAILURE_CODES = new Set<number>([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.INTERNAL,
  status.UNKNOWN,
]);

/**
 * A gRPC client (@grpc/grpc-js + protobufjs) whose instances come from the registry's cached
 * discovery, with the same balancers, per-instance circuit breakers, ejection and retries as the
 * HTTP client, and request id / traceparent propagated as metadata.
 */
export function createGrpcClient(options: GrpcClientOptions): GrpcClient {
  const { attempts, backoff } = resolveClientBasics('createGrpcClient', options);
  const {
    timeoutMs = 10_000,
    circuitBreaker = {},
    outlierDetection = {},
    tags = [],
    credentials = grpcCredentials.createInsecure(),
  } = options;
  const definition = grpcServiceDefinition(options.proto, options.grpcService);
  const channels = new Map<string, Client>();
  const discovery = options.registry.discover(options.service);
  const picker = new InstancePicker({
    service: options.service,
    discovery,
    balancer: createBalancer(options.balancer),
    circuitBreaker: circuitBreaker && {
      ...circuitBreaker,
      // Application errors (NOT_FOUND, INVALID_ARGUMENT...) are answers, not instance failures.
      isFailure: (error) =>
        FAILURE_CODES.has((error as ServiceError).code) && (circuitBreaker.isFailure?.(error) ?? true),
    },
    outlierDetection,
    tags,
    onCircuitOpen: () => {},
    onEject: () => {},
    onRemoved: (ids) => {
      for (const id of ids) {
        channels.get(id)?.close();
        channels.delete(id);
      }
    },
  });
  const channel = (instance: ServiceInstance) => {
    let client = channels.get(instance.id);
    if (!client) {
      const host = instance.address.includes(':') ? `[${instance.address}]` : instance.address;
      client = new Client(`${host}:${instance.port}`, credentials);
      channels.set(instance.id, client);
    }
    return client;
  };
  let closed = false;

  const unary = (
    instance: ServiceInstance,
    method: GrpcMethodDefinition,
    bytes: Buffer,
    metadata: Metadata,
    deadlineMs: number,
  ) =>
    new Promise<unknown>((resolve, reject) => {
      channel(instance).makeUnaryRequest(
        method.path,
        (already: Buffer) => already,
        method.responseDeserialize,
        bytes,
        metadata,
        { deadline: Date.now() + deadlineMs },
        (error, value) => (error ? reject(error) : resolve(value)),
      );
    });

  const client: GrpcClient = {
    methods: Object.keys(definition),
    async call<Res>(name: string, request: Record<string, unknown>, callOptions: GrpcCallOptions = {}) {
      invariant(!closed, `the gRPC client for "${options.service}" is closed`, 'NOA_SERVICE_CLOSED');
      const method = definition[name];
      invariant(
        method,
        `grpc: ${options.grpcService} has no unary method "${name}" (has ${Object.keys(definition).join(', ')})`,
        'NOA_GRPC_UNKNOWN_METHOD',
      );
      // Serialized once: a bad message fails before any instance is tried, and retries reuse the bytes.
      const bytes = method.requestSerialize(request);
      const metadata = new Metadata();
      for (const [key, value] of Object.entries(callOptions.metadata ?? {})) metadata.set(key, value);
      metadata.set(
        'x-request-id',
        callOptions.requestId ?? requestIdFrom(callOptions.metadata?.['x-request-id']),
      );
      metadata.set(
        'traceparent',
        childTraceparent(callOptions.traceparent ?? callOptions.metadata?.traceparent),
      );
      const deadlineMs = callOptions.timeoutMs ?? timeoutMs;
      if (!picker.synced) await Promise.race([discovery.ready, sleep(deadlineMs)]);
      const tried = new Set<string>();
      for (let attempt = 1; ; attempt++) {
        const instance = picker.choose(tried);
        tried.add(instance.id);
        const gate = picker.gate(instance);
        let report: OutcomeReport | undefined;
        let started: number | undefined;
        try {
          if (gate) report = await picker.admit(gate);
          started = picker.start(instance);
          const value = await unary(instance, method, bytes, metadata, deadlineMs);
          picker.end(instance, started);
          picker.success(instance, report);
          return value as Res;
        } catch (error) {
          if (started !== undefined) picker.end(instance, started);
          const code = (error as ServiceError).code;
          const rejected = isNoaError(error, 'NOA_CIRCUIT_OPEN');
          // Application errors (NOT_FOUND...) are answers: proof the instance works.
          if (!rejected)
            if (FAILURE_CODES.has(code)) picker.failure(instance, error, report);
            else picker.success(instance, report);
          const notProcessed =
            rejected ||
            (code === status.UNAVAILABLE &&
              NOT_PROCESSED_DETAILS.test((error as ServiceError).details ?? ''));
          const retryable =
            attempt < attempts &&
            (notProcessed ||
              (callOptions.idempotent === true &&
                (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED)));
          if (!retryable) {
            if (rejected) throw error;
            const e = error as ServiceError;
            throw Object.assign(
              new NoaError(
                code === status.DEADLINE_EXCEEDED
                  ? 'NOA_SERVICE_TIMEOUT'
                  : code === status.UNAVAILABLE
                    ? 'NOA_SERVICE_UNAVAILABLE'
                    : 'NOA_GRPC_ERROR',
                `${options.grpcService}/${name} on ${instance.address}:${instance.port} failed: ${status[code] ?? code} ${e.details ?? e.message}`,
                { cause: error },
              ),
              { grpcCode: code },
            );
          }
          await sleep(backoffDelay(backoff, attempt));
        }
      }
    },
    instances: () => picker.instances(),
    async close() {
      if (closed) return;
      closed = true;
      discovery.close();
      for (const c of channels.values()) c.close();
      channels.clear();
    },
    [Symbol.asyncDispose]: () => client.close(),
  };
  return client;
}
