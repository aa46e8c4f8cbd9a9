import { NoaError } from '@noa/core';

type Fail = (error: unknown) => void;

/** Told how watched calls end (see `bound`). */
export interface CallWatcher {
  succeeded(): void;
  failed(error: unknown): void;
}

/**
 * Bounds calls by one timeout with a single timer, instead of a setTimeout and a promise race per
 * call on the hot path. Every call waits the same `timeoutMs`, so deadlines come in the order
 * calls start: a ring buffer indexed by sequence number holds them oldest first, and the one timer
 * wakes at the oldest deadline still open. A settled call clears its slot at once, so nothing
 * outlives its call; the buffer grows only while more calls than it holds are open.
 */
export class DeadlineQueue {
  readonly #timeoutMs: number;
  readonly #watcher: CallWatcher | undefined;
  #deadlines = new Float64Array(256);
  #fails: (Fail | undefined)[] = new Array<Fail | undefined>(256).fill(undefined);
  #watched = new Uint8Array(256);
  #mask = 255;
  /** Sequence number of the oldest call that may still be open; `#tail` is the next one. */
  #head = 0;
  #tail = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number, watcher?: CallWatcher) {
    this.#timeoutMs = timeoutMs;
    this.#watcher = watcher;
  }

  /**
   * `promise`, or a `NOA_TIMEOUT` rejection if it has not settled within `timeoutMs`. A `watched`
   * call's outcome (including its timeout) is also reported to the watcher.
   */
  bound<T>(promise: Promise<T>, watched = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#tail - this.#head > this.#mask) this.#grow();
      const seq = this.#tail++;
      const slot = seq & this.#mask;
      this.#deadlines[slot] = performance.now() + this.#timeoutMs;
      this.#fails[slot] = reject;
      this.#watched[slot] = watched ? 1 : 0;
      // Not unref'ed: it runs only while calls are open, and must end them even if nothing else
      // keeps the process alive.
      this.#timer ??= setTimeout(this.#expire, this.#timeoutMs);
      promise.then(
        (value) => {
          if (this.#settle(seq) && watched) this.#watcher?.succeeded();
          resolve(value);
        },
        (error: unknown) => {
          if (this.#settle(seq) && watched) this.#watcher?.failed(error);
          reject(error);
        },
      );
    });
  }

  /** Calls not settled or timed out yet. */
  get open(): number {
    let open = 0;
    for (let seq = this.#head; seq < this.#tail; seq++) if (this.#fails[seq & this.#mask]) open++;
    return open;
  }

  /** Frees the call's slot; false if it had timed out already. */
  #settle(seq: number): boolean {
    if (seq < this.#head || this.#fails[seq & this.#mask] === undefined) return false;
    this.#fails[seq & this.#mask] = undefined;
    // Calls mostly finish in order (Redis answers in order), so the oldest slot frees up here.
    while (this.#head < this.#tail && this.#fails[this.#head & this.#mask] === undefined) this.#head++;
    return true;
  }

  readonly #expire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    while (this.#head < this.#tail) {
      const slot = this.#head & this.#mask;
      const fail = this.#fails[slot];
      if (fail !== undefined) {
        if (this.#deadlines[slot]! > now) {
          this.#timer = setTimeout(this.#expire, Math.ceil(this.#deadlines[slot]! - now));
          return;
        }
        this.#fails[slot] = undefined;
        const error = new NoaError('NOA_TIMEOUT', `operation timed out after ${this.#timeoutMs} ms`);
        if (this.#watched[slot] === 1) this.#watcher?.failed(error);
        fail(error);
      }
      this.#head++;
    }
  };

  #grow(): void {
    const size = (this.#mask + 1) * 2;
    const deadlines = new Float64Array(size);
    const fails = new Array<Fail | undefined>(size).fill(undefined);
    const watched = new Uint8Array(size);
    for (let seq = this.#head; seq < this.#tail; seq++) {
      const from = seq & this.#mask;
      const to = seq & (size - 1);
      deadlines[to] = this.#deadlines[from]!;
      fails[to] = this.#fails[from];
      watched[to] = this.#watched[from]!;
    }
    this.#deadlines = deadlines;
    this.#fails = fails;
    this.#watched = watched;
    this.#mask = size - 1;
  }
}
