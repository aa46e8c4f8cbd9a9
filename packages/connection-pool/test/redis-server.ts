import { Redis } from 'ioredis';

/** A short-lived client of a test's own redis-server (testkit's RedisServerProcess), for checks and admin. */
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
