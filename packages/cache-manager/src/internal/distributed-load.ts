import { sleep } from '@noa/core';
import type { DistributedLock } from '../tier.js';

export interface LeaseOptions {
  leaseMs: number;
  waitMs: number;
  now: () => number;
  /** When the call's remote work must be over (epoch ms); undefined = each step's own timeout only. */
  deadline: number | undefined;
  /**
   * A deadline for remote work that starts now. Time spent waiting for another process's loader is
   * loader time, not remote time: every attempt after such a wait gets a fresh budget.
   */
  freshDeadline: () => number | undefined;
}

/**
 * Runs `load` in at most one process at a time for `key`: the lease holder loads, the others poll
 * the shared tier for its result. The lease is renewed while the loader runs and expires on its own
 * when the holder dies. When the lock store is unreachable (or does not answer before the call's
 * deadline), or the holder takes longer than `waitMs`, the caller loads itself: availability beats
 * strict once-only. `readShared` and `load` get the deadline of the attempt that led to them.
 */
export async function loadWithLease<T>(
  lock: DistributedLock,
  key: string,
  options: LeaseOptions,
  readShared: (deadline: number | undefined) => Promise<T | undefined>,
  load: (deadline: number | undefined) => Promise<T>,
): Promise<T> {
  const { leaseMs, waitMs, now, freshDeadline } = options;
  const giveUpAt = now() + waitMs;
  let deadline = options.deadline;
  let delayMs = 5;
  for (;;) {
    let token: string | undefined;
    try {
      token = await lock.acquire(key, leaseMs, deadline);
    } catch {
      return load(deadline);
    }
    if (token !== undefined) return holdLease(lock, key, token, leaseMs, deadline, readShared, load);
    await sleep(delayMs);
    delayMs = Math.min(delayMs * 2, 100);
    deadline = freshDeadline();
    const loaded = await readShared(deadline).catch(() => undefined);
    if (loaded !== undefined) return loaded;
    if (now() >= giveUpAt) return load(deadline);
  }
}

async function holdLease<T>(
  lock: DistributedLock,
  key: string,
  token: string,
  leaseMs: number,
  deadline: number | undefined,
  readShared: (deadline: number | undefined) => Promise<T | undefined>,
  load: (deadline: number | undefined) => Promise<T>,
): Promise<T> {
  const renew = setInterval(() => lock.extend(key, token, leaseMs).catch(() => {}), leaseMs / 3);
  renew.unref();
  try {
    // The previous holder may have finished between our last look and acquiring the lease.
    const loaded = await readShared(deadline).catch(() => undefined);
    return loaded !== undefined ? loaded : await load(deadline);
  } finally {
    clearInterval(renew);
    // Not awaited: the result is already in the shared tier (or failed to get there), so the caller
    // need not wait for Redis once more; a release that is lost only leaves the lease to expire.
    lock.release(key, token).catch(() => {});
  }
}
