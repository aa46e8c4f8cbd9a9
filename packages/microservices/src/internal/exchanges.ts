import type { Readable } from 'node:stream';
import { NoaError } from '@noa/core';
import type { Dispatcher } from 'undici';

// One request/response exchange through undici's dispatch API. undici's request() builds an
// AsyncResource, a Readable body and a consume promise per response; these handlers take the
// response from undici's callbacks directly, which is most of what a request costs in JavaScript.

type Headers = Record<string, string | string[] | undefined>;

/** A buffered response: status, headers and the whole body. */
export class BufferedExchange implements Dispatcher.DispatchHandler {
  statusCode = 0;
  headers: Headers = {};
  body: Buffer = EMPTY;
  /** Resolves with this exchange once the body is complete; rejects with the first error. */
  readonly done: Promise<BufferedExchange>;
  #resolve!: (value: BufferedExchange) => void;
  #reject!: (error: Error) => void;
  #controller: Dispatcher.DispatchController | undefined;
  #chunks: Buffer[] | undefined;
  #size = 0;
  #error: Error | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly service: string,
    private readonly signal?: AbortSignal,
  ) {
    this.done = new Promise<BufferedExchange>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    signal?.addEventListener('abort', this, { once: true });
  }

  /** The AbortSignal fired (an EventListener object: no closure per request). */
  handleEvent(): void {
    this.#abort(this.signal?.reason ?? new Error('aborted'));
  }

  #abort(error: Error): void {
    this.#error ??= error;
    this.#controller?.abort(error);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.signal?.aborted) this.#abort(this.signal.reason);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Headers): void {
    if (statusCode < 200) return; // 1xx interim answers
    this.statusCode = statusCode;
    this.headers = headers;
    const declared = headers['content-length'];
    if (declared !== undefined && Number(declared) > this.maxBytes) this.#abort(this.#tooLarge());
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#size += chunk.length;
    if (this.#size > this.maxBytes) this.#abort(this.#tooLarge());
    else if (this.#chunks === undefined) {
      this.body = chunk;
      this.#chunks = [chunk];
    } else this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.signal?.removeEventListener('abort', this);
    if (this.#chunks !== undefined && this.#chunks.length > 1)
      this.body = Buffer.concat(this.#chunks, this.#size);
    this.#resolve(this);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.signal?.removeEventListener('abort', this);
    this.#reject(this.#error ?? error);
  }

  #tooLarge(): NoaError {
    return new NoaError(
      'NOA_SERVICE_RESPONSE_TOO_LARGE',
      `${this.service} sent more than maxResponseBytes (${this.maxBytes}); raise it or use stream()`,
    );
  }
}

const EMPTY = Buffer.alloc(0);

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
 * A proxied response whose body goes straight into a sink (the gateway's response): no Readable,
 * no pipe and no per-chunk events in between. `head` resolves once status and headers arrived
 * (the body waits), or rejects with the error that came first; pipeTo() then forwards the body
 * with backpressure, and a sink closed early aborts the upstream request.
 */
export class ProxyExchange implements Dispatcher.DispatchHandler {
  statusCode = 0;
  headers: Headers = {};
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

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Headers): void {
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
