export interface SingleFlight {
  /**
   * Runs `fn` for `key` unless a call for the same key is already running, in which case the
   * caller shares its result (or its error). The key is free again as soon as the call settles.
   */
  do<T>(key: string, fn: () => PromiseLike<T> | T): Promise<T>;
  /** Whether a call for `key` is running. */
  has(key: string): boolean;
  /** Calls running now. */
  readonly size: number;
}

/** Deduplicates concurrent calls per key (Go's singleflight). */
export function createSingleFlight(): SingleFlight {
  const inFlight = new Map<string, Promise<unknown>>();
  return {
    do<T>(key: string, fn: () => PromiseLike<T> | T): Promise<T> {
      const running = inFlight.get(key);
      if (running) return running as Promise<T>;
      const call = (async () => {
        try {
          return await fn();
        } finally {
          inFlight.delete(key);
        }
      })();
      inFlight.set(key, call);
      return call;
    },
    has: (key) => inFlight.has(key),
    get size() {
      return inFlight.size;
    },
  };
}
