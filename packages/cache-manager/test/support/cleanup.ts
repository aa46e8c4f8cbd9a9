import type { Redis } from 'ioredis';

/** Removes this test's (or benchmark's) keys by prefix: SCAN + UNLINK, never a FLUSH of a shared server. */
export async function unlinkByPrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await client.unlink(...keys);
  } while (cursor !== '0');
}
