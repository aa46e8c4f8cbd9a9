import { sleep } from '@noa/core';
import type { DistributedLock } from '../tier.js';

export interface LeaseOptions {
  leaseMs: number;
  waitMs: number;
  now: () => number;
}

/**
 * Runs `load` in at most one process at a time for `key`: the lease holder loads, the others poll
 * the shared tier for its result. The lease is renewed while the loader runs and expires on its own
 * when the holder dies. When the lock store is unreachable, or the holder takes longer than
 * `waitMs`, the caller loads itself: availability beats strict once-only.
 */
export async function loadWithLease<T>(
  lock: DistributedLock,
  key: string,
  options: LeaseOptions,
  readShared: () => Promise<T | undefined>,
  load: () => Promise<T>,
): Promise<T> {
  const { leaseMs, waitMs, now } = options;
  const deadline = now() + waitMs;
  let delayMs = 5;
  for (;;) {
    let token: string | undefined;
    try {
      token = await lock.acquire(key, leaseMs);
    } catch {
      return load();
    }
    if (token !== undefined) return holdLease(lock, key, token, leaseMs, readShared, load);
    await sleep(delayMs);
    delayMs = Math.min(delayMs * 2, 100);
    const loaded = await readShared().catch(() => undefined);
    if (loaded !== undefined) return loaded;
    if (now() >= deadline) return load();
  }
}

async function holdLease<T>(
  lock: DistributedLock,
  key: string,
  token: string,
  leaseMs: number,
  readShared: () => Promise<T | undefined>,
  load: () => Promise<T>,
): Promise<T> {
  const renew = setInterval(() => lock.extend(key, token, leaseMs).catch(() => {}), leaseMs / 3);
  renew.unref();
  try {
    // The previous holder may have finished between our last look and acquiring the lease.
    const loaded = await readShared().catch(() => undefined);
    return loaded !== undefined ? loaded : await load();
  } finally {
    clearInterval(renew);
    await lock.release(key, token).catch(() => {});
  }
}
