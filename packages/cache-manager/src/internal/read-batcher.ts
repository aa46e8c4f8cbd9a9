type Waiter<T> = { resolve: (value: T) => void; reject: (error: unknown) => void };

/**
 * Coalesces the reads issued while the current job and its promise chains run into one request
 * (Redis: one MGET instead of N GETs, so one socket write and one round trip). Flushed with
 * process.nextTick, which runs after the microtask queue has drained: every caller woken by the
 * same socket read gets into the same batch, and no read waits for a timer or another I/O turn.
 */
export class ReadBatcher<R, T> {
  #keys: string[] = [];
  #waiters: Waiter<T>[] = [];

  constructor(
    /** Answers for `keys`, in order. */
    private readonly fetch: (keys: string[]) => Promise<R[]>,
    /** Turns one answer into the caller's value; a throw fails only that caller. */
    private readonly decode: (raw: R) => T,
    private readonly maxBatch = 256,
  ) {}

  load(key: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#keys.length === 0) process.nextTick(() => this.#flush());
      this.#keys.push(key);
      this.#waiters.push({ resolve, reject });
    });
  }

  #flush(): void {
    const keys = this.#keys;
    const waiters = this.#waiters;
    this.#keys = [];
    this.#waiters = [];
    for (let start = 0; start < keys.length; start += this.maxBatch) {
      const end = Math.min(start + this.maxBatch, keys.length);
      this.fetch(start === 0 && end === keys.length ? keys : keys.slice(start, end)).then(
        (answers) => {
          for (let i = start; i < end; i++) {
            const waiter = waiters[i]!;
            let value: T;
            try {
              value = this.decode(answers[i - start]!);
            } catch (error) {
              waiter.reject(error);
              continue;
            }
            waiter.resolve(value);
          }
        },
        (error) => {
          for (let i = start; i < end; i++) waiters[i]!.reject(error);
        },
      );
    }
  }
}
