import { connect } from 'node:net';

/** A service the integration tests talk to, with the environment variable that overrides its address. */
export interface ServiceInfo {
  /** Environment variable holding the address. */
  env: string;
  /** Address used when the variable is unset; undefined for services this machine cannot run. */
  defaultUrl?: string;
  /** What starts it, named in the failure message under CI. */
  startWith: string;
}

export const services = {
  redis: { env: 'REDIS_URL', defaultUrl: 'redis://127.0.0.1:6379', startWith: 'scripts/services/up.sh' },
  postgres: {
    env: 'DATABASE_URL',
    defaultUrl: 'postgres://postgres@127.0.0.1:5432/test',
    startWith: 'scripts/services/up.sh',
  },
  mysql: {
    env: 'MYSQL_URL',
    defaultUrl: 'mysql://root@127.0.0.1:3306/test',
    startWith: 'scripts/services/up.sh',
  },
  rabbitmq: {
    env: 'AMQP_URL',
    defaultUrl: 'amqp://guest:guest@127.0.0.1:5672',
    startWith: 'scripts/services/up.sh',
  },
  kafka: { env: 'KAFKA_BROKERS', startWith: 'a Kafka broker (none runs on this machine)' },
  mongodb: { env: 'MONGODB_URL', startWith: 'a MongoDB server (none runs on this machine)' },
  consul: { env: 'CONSUL_HTTP_ADDR', startWith: 'a Consul agent (none runs on this machine)' },
} satisfies Record<string, ServiceInfo>;

export type ServiceName = keyof typeof services;

export interface ServiceStatus {
  name: string;
  available: boolean;
  /** The address to connect to (empty when the service is not configured). */
  url: string;
  /** Why the service is not available, for skip messages. */
  reason?: string;
}

/** The configured address of a service: its environment variable, else the local default. */
export function serviceUrl(name: ServiceName): string {
  const info: ServiceInfo = services[name];
  return process.env[info.env] ?? info.defaultUrl ?? '';
}

/** Host and port of the first address in a URL or a `host:port[,host:port]` list. */
export function hostPort(address: string): { host: string; port: number } {
  const first = address.split(',')[0]!.trim();
  const url = new URL(first.includes('://') ? first : `tcp://${first}`);
  const defaults: Record<string, number> = {
    'redis:': 6379,
    'postgres:': 5432,
    'postgresql:': 5432,
    'mysql:': 3306,
    'amqp:': 5672,
    'mongodb:': 27017,
    'http:': 80,
    'https:': 443,
  };
  const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  return { host, port: url.port ? Number(url.port) : (defaults[url.protocol] ?? 0) };
}

/** Whether a TCP connection to the address can be opened within `timeoutMs`. */
export function isReachable(address: string, timeoutMs = 1_000): Promise<boolean> {
  const { host, port } = hostPort(address);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Checks a service the test suite needs. Under `CI=true` an unreachable service is an error that
 * names the service and the script that starts it; elsewhere the caller skips with `reason`.
 * Services this machine cannot run (Kafka, MongoDB, Consul) are available only when their
 * environment variable is set, and are otherwise skipped even under CI.
 */
export async function requireService(name: ServiceName): Promise<ServiceStatus> {
  const info: ServiceInfo = services[name];
  const url = serviceUrl(name);
  if (!url) {
    return {
      name,
      available: false,
      url,
      reason: `${name}: set ${info.env} to run these tests (${info.startWith})`,
    };
  }
  if (await isReachable(url)) return { name, available: true, url };
  const reason = `${name} is unreachable at ${url}; start it with ${info.startWith}`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(reason);
  return { name, available: false, url, reason };
}
