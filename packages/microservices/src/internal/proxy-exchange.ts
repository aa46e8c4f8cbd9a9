import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/** Where a proxied response body goes: a node:http ServerResponse. */
export interface ProxySink {
  write(chunk: Buffer): boolean;
  end(): void;
  destroy(error?: Error): void;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  readonly writableFinished: boolean;
}

const discarded = () =>
  Object.assign(new Error('the proxied response was discarded'), { code: 'NOA_DISCARDED' });

/**
 * One upstream exchange through undici's dispatch API whose body goes straight into a sink (the
 * gateway's response): no Readable, no pipe and no per-chunk events in between, which is most of
 * what a proxied request costs in JavaScript. `head` resolves once status and headers arrived (the
 * body waits), or rejects with the error that came first; pipeTo() then forwards the body with
 * backpressure, and a sink closed early aborts the upstream request.
 */
export class ProxyExchange implements Dispatcher.DispatchHandler {
  statusCode = 0;
  headers: Record<string, string | string[] | undefined> = {};
  readonly head: Promise<ProxyExchange>;
  /** Lets code that handles undici's response shape (`response.body`) treat both alike. */
  readonly body = this;
  #resolve!: (value: ProxyExchange) => void;
  #reject!: (error: Error) => void;
  #controller: Dispatcher.DispatchController | undefined;
  #sink: ProxySink | undefined;
  /** Chunks that arrived before pipeTo() (the body is paused at the head, so normally none). */
  #early: Buffer[] | undefined;
  #headed = false;
  #done = false;
  #error: Error | undefined;
  #onDone: (() => void) | undefined;
  #discarding = false;

  constructor(private readonly requestBody?: Readable) {
    this.head = new Promise<ProxyExchange>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Calls `fn` once the exchange is over (body ended, failed or discarded). */
  onDone(fn: () => void): void {
    if (this.#done) fn();
    else this.#onDone = fn;
  }

  /** Forwards the body into `sink` and ends (or, on an upstream error, destroys) it. */
  pipeTo(sink: ProxySink): void {
    this.#sink = sink;
    sink.once('close', () => {
      if (!this.#done && !sink.writableFinished) this.#controller?.abort(discarded());
    });
    if (this.#early) for (const chunk of this.#early.splice(0)) sink.write(chunk);
    if (this.#error) sink.destroy(this.#error);
    else if (this.#done) sink.end();
    else this.#controller?.resume();
  }

  /** Drops the response (a retry, or a client that went away): aborts the upstream request. */
  destroy(): void {
    this.#discarding = true;
    if (!this.#done) this.#controller?.abort(discarded());
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // 1xx interim answers are not forwarded
    this.#controller = controller;
    this.statusCode = statusCode;
    this.headers = headers;
    this.#headed = true;
    controller.pause(); // until pipeTo(): transform hooks may run first
    this.#resolve(this);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const sink = this.#sink;
    if (sink === undefined) (this.#early ??= []).push(chunk);
    else if (!sink.write(chunk)) {
      controller.pause();
      sink.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    this.#finish();
    this.#sink?.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    if (this.#done) return;
    this.#finish();
    // An upstream failure ends the upload too (but a discarded answer keeps an unread body for a retry).
    if (this.requestBody && !this.#discarding && !this.requestBody.destroyed) this.requestBody.destroy(error);
    if (!this.#headed) this.#reject(error);
    else if (this.#sink) this.#sink.destroy(error);
    else this.#error = error;
  }

  #finish(): void {
    this.#done = true;
    const fn = this.#onDone;
    this.#onDone = undefined;
    fn?.();
  }
}
