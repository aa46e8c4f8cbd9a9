const RETRY_MS = 1_000;
const MAX_PENDING = 10_000;

/**
 * Invalidations a shared tier could not take (it was down) are kept and replayed in order once it
 * answers again, so a delete during an outage is not silently lost. Bounded: past MAX_PENDING the
 * oldest are dropped and reported, and the replay timer is unref()ed.
 */
export class InvalidationReplay {
  readonly #pending: Array<() => Promise<void>> = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(private readonly onError: (error: unknown) => void) {}

  get size(): number {
    return this.#pending.length;
  }

  push(operation: () => Promise<void>): void {
    this.#pending.push(operation);
    if (this.#pending.length > MAX_PENDING) {
      this.#pending.shift();
      this.onError(
        new Error('cache: too many invalidations pending while a tier is down; the oldest was dropped'),
      );
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#pending.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#drain().finally(() => {
        this.#running = undefined;
        this.#schedule();
      });
    }, RETRY_MS);
    this.#timer.unref();
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      try {
        await this.#pending[0]!();
      } catch {
        return; // Still down: try again later, in the same order.
      }
      this.#pending.shift();
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
    // One last attempt, so a clean shutdown after an outage does not leave stale shared data behind.
    await this.#drain();
  }
}
