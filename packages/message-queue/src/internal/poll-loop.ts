import { backoffDelay, sleep } from '@noa/core';
import { InFlight } from './in-flight.js';

export interface PollLoopOptions<M> {
  concurrency: number;
  /** Fetch loops running at once (SQS returns at most 10 messages per receive). Default 1. */
  pollers?: number;
  /** Takes up to `max` messages; may block (long poll) and should return [] when there are none. */
  fetch(max: number, signal: AbortSignal): Promise<M[]>;
  /** Called after an empty fetch, before the next: block until more may be available. */
  idle?(signal: AbortSignal): Promise<void>;
  /** Runs one message (the manager's handling, which settles it). */
  deliver(message: M): Promise<void>;
  /** Extends the locks of the messages being handled, every `everyMs`. */
  extend?: { everyMs: number; run(messages: M[]): Promise<void> };
  onError(error: unknown): void;
}

/**
 * The receive loop shared by the pull-based providers (Redis, SQS): fetch only as many messages as
 * there are free slots (so nothing waits unlocked in a local buffer), back off on errors, keep the
 * locks of running messages alive, and on close stop fetching and wait for the running ones.
 */
export class PollLoop<M> {
  readonly #options: PollLoopOptions<M>;
  readonly #slots: InFlight;
  readonly #running = new Set<M>();
  readonly #abort = new AbortController();
  readonly #loops: Promise<void>[];
  readonly #timer: NodeJS.Timeout | undefined;
  /** Slots promised to fetches in progress, so parallel pollers never overshoot the concurrency. */
  #reserved = 0;

  constructor(options: PollLoopOptions<M>) {
    this.#options = options;
    this.#slots = new InFlight(options.concurrency);
    this.#loops = Array.from({ length: Math.max(1, options.pollers ?? 1) }, () => this.#loop());
    if (options.extend) {
      const { everyMs, run } = options.extend;
      this.#timer = setInterval(() => {
        if (this.#running.size === 0) return;
        run([...this.#running]).catch((error) => options.onError(error));
      }, everyMs);
      this.#timer.unref();
    }
  }

  get running(): ReadonlySet<M> {
    return this.#running;
  }

  async #loop(): Promise<void> {
    const { signal } = this.#abort;
    let failures = 0;
    while (!signal.aborted) {
      while (this.#slots.free - this.#reserved <= 0 && !signal.aborted) await this.#slots.next();
      if (signal.aborted) break;
      const max = this.#slots.free - this.#reserved;
      this.#reserved += max;
      let messages: M[];
      try {
        messages = await this.#options.fetch(max, signal);
        failures = 0;
      } catch (error) {
        this.#reserved -= max;
        if (signal.aborted) break;
        this.#options.onError(error);
        failures++;
        await sleep(backoffDelay({ delayMs: 100, maxDelayMs: 5_000, jitter: 'equal' }, failures)).catch(
          () => {},
        );
        continue;
      }
      this.#reserved -= max;
      for (const message of messages) {
        this.#running.add(message);
        this.#slots.run(() => this.#options.deliver(message).finally(() => this.#running.delete(message)));
      }
      if (messages.length === 0 && this.#options.idle && !signal.aborted) {
        await this.#options.idle(signal).catch((error) => {
          if (!signal.aborted) this.#options.onError(error);
        });
      }
    }
  }

  /** Stops fetching (aborting a blocked fetch) and waits for running messages to settle. */
  async close(): Promise<void> {
    this.#abort.abort();
    clearInterval(this.#timer);
    await Promise.all(this.#loops);
    await this.#slots.idle();
  }
}
