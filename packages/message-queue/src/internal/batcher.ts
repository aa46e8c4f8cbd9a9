/**
 * Groups single calls into batch calls (SQS DeleteMessageBatch takes 10 entries): items added in
 * the same tick, up to `maxSize`, go out together; each caller gets its own item's outcome.
 */
export class Batcher<T> {
  readonly #maxSize: number;
  readonly #flush: (items: T[]) => Promise<(Error | undefined)[]>;
  #pending: { item: T; resolve: () => void; reject: (error: Error) => void }[] = [];
  #scheduled = false;

  /** `flush` returns, per item, an error or undefined; a thrown error fails the whole batch. */
  constructor(maxSize: number, flush: (items: T[]) => Promise<(Error | undefined)[]>) {
    this.#maxSize = maxSize;
    this.#flush = flush;
  }

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#pending.length >= this.#maxSize) this.#send();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#send());
      }
    });
  }

  #send(): void {
    this.#scheduled = false;
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#maxSize);
      this.#flush(batch.map((p) => p.item)).then(
        (errors) => {
          for (const [i, p] of batch.entries()) {
            const error = errors[i];
            if (error) p.reject(error);
            else p.resolve();
          }
        },
        (error: Error) => {
          for (const p of batch) p.reject(error);
        },
      );
    }
  }
}
