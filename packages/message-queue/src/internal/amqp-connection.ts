import { type BackoffOptions, backoffDelay, NoaError, sleep } from '@noa/core';
import { type ChannelModel, type ConfirmChannel, connect, type Options, type SocketOptions } from 'amqplib';

/**
 * One AMQP connection that comes back after a broker restart or a network cut: callers ask for the
 * live connection (connecting on demand), and a lost connection is simply replaced on the next ask.
 * amqplib channels die with their connection, so consumers re-subscribe in their own loop.
 */
export class AmqpConnection {
  readonly #url: string | Options.Connect;
  readonly #backoff: BackoffOptions;
  #connection: Promise<ChannelModel> | undefined;
  #publisher: Promise<ConfirmChannel> | undefined;
  /** The publisher channel once open, for the synchronous fast path of publish. */
  #publisherReady: ConfirmChannel | undefined;
  #closed = false;
  /** Bumped on every new connection, so topology is re-asserted once per connection. */
  generation = 0;

  readonly #socket: SocketOptions;

  constructor(url: string | Options.Connect, backoff: BackoffOptions, socket: SocketOptions) {
    this.#url = url;
    this.#backoff = backoff;
    this.#socket = socket;
  }

  get closed(): boolean {
    return this.#closed;
  }

  connection(): Promise<ChannelModel> {
    if (this.#closed) return Promise.reject(new NoaError('NOA_MQ_CLOSED', 'the RabbitMQ provider is closed'));
    this.#connection ??= (async () => {
      const model = await connect(this.#url, this.#socket);
      this.generation++;
      const drop = () => {
        if (this.#connection === current) {
          this.#connection = undefined;
          this.#publisher = undefined;
          this.#publisherReady = undefined;
        }
      };
      model.on('error', () => {}); // 'close' follows; reported by whoever was using it
      model.on('close', drop);
      return model;
    })();
    const current = this.#connection;
    current.catch(() => {
      if (this.#connection === current) this.#connection = undefined;
    });
    return current;
  }

  /** The shared confirm channel for publishing. */
  publisher(): Promise<ConfirmChannel> {
    this.#publisher ??= this.connection().then(async (model) => {
      const channel = await model.createConfirmChannel();
      channel.on('error', () => {});
      channel.on('close', () => {
        if (this.#publisher === current) this.#publisher = undefined;
        if (this.#publisherReady === channel) this.#publisherReady = undefined;
      });
      this.#publisherReady = channel;
      return channel;
    });
    const current = this.#publisher;
    current.catch(() => {
      if (this.#publisher === current) this.#publisher = undefined;
    });
    return current;
  }

  /** The open publisher channel, if there is one right now. */
  get publisherNow(): ConfirmChannel | undefined {
    return this.#publisherReady;
  }

  /** Runs `fn` with live resources, retrying through reconnections until `timeoutMs` passes. */
  async withRetry<T>(timeoutMs: number, fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (this.#closed) throw error;
        const delayMs = backoffDelay(this.#backoff, attempt);
        if (Date.now() + delayMs > deadline) {
          throw new NoaError(
            'NOA_MQ_UNAVAILABLE',
            `RabbitMQ did not accept the operation within ${timeoutMs} ms (${(error as Error).message}); is the broker up?`,
            { cause: error },
          );
        }
        await sleep(delayMs);
      }
    }
  }

  /** Waits before the next reconnection attempt of a consumer loop. */
  pause(attempt: number): Promise<void> {
    return sleep(backoffDelay(this.#backoff, attempt)).catch(() => {});
  }

  async close(): Promise<void> {
    this.#closed = true;
    const connection = this.#connection;
    this.#connection = undefined;
    this.#publisher = undefined;
    this.#publisherReady = undefined;
    if (connection) await (await connection.catch(() => undefined))?.close().catch(() => {});
  }
}
