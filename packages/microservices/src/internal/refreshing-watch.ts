import type { ServiceInstance } from '../instance.js';
import type { WatchHandlers } from '../registry-backend.js';

export interface Snapshot {
  instances: ServiceInstance[];
  /** When the next health state changes by itself (a TTL lapses), in ms from now. */
  nextChangeInMs?: number;
}

export interface RefreshingWatch {
  /** Something changed: read the list again (coalesced while a read is running). */
  trigger(): void;
  stop(): void;
}

/**
 * A watch for backends that announce changes (pub/sub, in-process events) but whose TTLs lapse
 * silently: it re-reads on every announcement, at the moment the next TTL lapses, and every
 * `pollIntervalMs` as a safety net against a lost announcement.
 */
export function createRefreshingWatch(
  read: () => Promise<Snapshot>,
  handlers: WatchHandlers,
  pollIntervalMs: number,
): RefreshingWatch {
  let stopped = false;
  let running = false;
  let again = false;
  let expiryTimer: NodeJS.Timeout | undefined;
  const run = async () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const snapshot = await read();
        if (stopped) return;
        clearTimeout(expiryTimer);
        if (snapshot.nextChangeInMs !== undefined) {
          // A few ms late so the lapse has happened by the time we read.
          expiryTimer = setTimeout(run, Math.max(0, snapshot.nextChangeInMs) + 5);
          expiryTimer.unref();
        }
        handlers.change(snapshot.instances);
      } while (again && !stopped);
    } catch (error) {
      if (!stopped) handlers.error(error);
    } finally {
      running = false;
    }
  };
  const poll = setInterval(run, pollIntervalMs);
  poll.unref();
  queueMicrotask(run);
  return {
    trigger: () => void run(),
    stop() {
      stopped = true;
      clearInterval(poll);
      clearTimeout(expiryTimer);
    },
  };
}
