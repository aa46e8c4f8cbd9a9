import { type ChildProcess, spawn } from 'node:child_process';
import { waitUntil } from '@noa/testkit';
import { Redis } from 'ioredis';

/** A throwaway redis-server of the test's own (never the shared one), killed by the test. */
export async function startRedis(port: number, args: string[] = []): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
    { stdio: 'ignore' },
  );
  await waitUntil(
    async () => {
      const client = new Redis({
        port,
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      client.on('error', () => {});
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } finally {
        client.disconnect();
      }
    },
    { timeoutMs: 10_000, message: `redis-server on ${port}` },
  );
  return child;
}

export async function redisAt<T>(port: number, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    client.disconnect();
  }
}
