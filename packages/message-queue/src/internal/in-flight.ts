/**
 * Counts the deliveries a consumer is running so it never exceeds its concurrency, and lets close()
 * wait until the last one settles. Shared by every provider's consumer loop.
 */
export class InFlight {
  readonly limit: number;
  #active = 0;
  #waiters: (() => void)[] = [];

  readonly #onFree: (() => void) | undefined;

  /** `onFree` runs each time a slot frees, e.g. to hand the consumer its next message. */
  constructor(limit: number, onFree?: () => void) {
    this.limit = limit;
    this.#onFree = onFree;
  }

  get active(): number {
    return this.#active;
  }

  get free(): number {
    return Math.max(0, this.limit - this.#active);
  }

  /** Runs `task` in a slot; never rejects (the task reports its own errors). */
  run(task: () => Promise<void>): void {
    this.#active++;
    task().then(this.#done, this.#done);
  }

  /** One function for every task (not a closure per task): frees the slot and wakes the waiters. */
  readonly #done = (): void => {
    this.#active--;
    if (this.#waiters.length > 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
    }
    this.#onFree?.();
  };

  /** Resolves when a slot frees (immediately if one is free). */
  async slot(): Promise<void> {
    while (this.#active >= this.limit) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves the next time a slot frees. */
  next(): Promise<void> {
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Resolves when nothing runs. */
  async idle(): Promise<void> {
    while (this.#active > 0) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}
