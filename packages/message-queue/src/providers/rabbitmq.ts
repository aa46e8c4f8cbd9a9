import { type BackoffOptions, invariant } from '@noa/core';
import type { Channel, ConfirmChannel, ConsumeMessage, GetMessage, Options, SocketOptions } from 'amqplib';
import { AmqpConnection } from '../internal/amqp-connection.js';
import { InFlight } from '../internal/in-flight.js';
import { getOrCreate, type LocalCounts, localCounts } from '../internal/local-counts.js';
import type {
  ConsumeOptions,
  Delivery,
  OutgoingMessage,
  ProviderCapabilities,
  ProviderConsumer,
  QueueProvider,
  RawDeadLetter,
} from '../provider.js';
import type { QueueStats } from '../types.js';

export interface RabbitmqProviderOptions {
  /** An amqp:// URL or amqplib connect options. The provider owns (and re-opens) the connection. */
  connection: string | Options.Connect;
  /** x-max-priority of every queue (0 disables priorities). Default 10; higher priorities are capped to it. */
  maxPriority?: number;
  /** How long publish and admin calls keep retrying through a reconnection. Default 10 000. */
  operationTimeoutMs?: number;
  /** Backoff between reconnection attempts. Default 100 ms doubling to 5 s, with jitter. */
  reconnect?: BackoffOptions;
  /**
   * amqplib socket options. Default { noDelay: true }: acks and small jobs go out at once instead
   * of waiting on Nagle's algorithm (amqplib's own default leaves it on).
   */
  socketOptions?: SocketOptions;
}

/** Delay queues hold messages of delay (2^(k-1), 2^k] ms, so a short delay waits behind a longer one by at most 2x. */
const MIN_BUCKET_EXP = 7;
function delayBucket(delayMs: number): number {
  return 2 ** Math.max(MIN_BUCKET_EXP, Math.ceil(Math.log2(Math.max(1, delayMs))));
}

/** The exclusive queue whose holder is the leader scheduler of a schedule. */
const scheduleLock = (schedule: string) => `noa.schedule.${schedule}`;

const names = (queue: string) => ({
  dead: `${queue}.dead`,
  delay: (bucket: number) => `${queue}.delay.${bucket}`,
});

function confirmSend(
  channel: ConfirmChannel,
  queue: string,
  body: string,
  options: Options.Publish,
): Promise<void> {
  return new Promise((resolve, reject) => {
    channel.sendToQueue(queue, Buffer.from(body), options, (error) => (error ? reject(error) : resolve()));
  });
}

/** AMQP timestamps are seconds; amqplib decodes them to a number (or an object holding `value`). */
const amqpTimeMs = (time: unknown) => Number((time as { value?: number })?.value ?? time) * 1000;

const priorityOf = (message: ConsumeMessage | GetMessage) => Number(message.properties.priority ?? 0);

/** What the deliveries of one subscription share: its channel and how to republish. */
interface Settle {
  channel: Channel;
  stats: LocalCounts;
  republish(id: string, body: string, delayMs: number, priority: number): Promise<void>;
  deadLetter(id: string, body: string): Promise<void>;
}

/** One consumed message: a class, so each message costs one object rather than a closure per outcome. */
class AmqpDelivery implements Delivery {
  readonly messageId: string;
  readonly body: string;
  readonly #settle: Settle;
  readonly #message: ConsumeMessage;

  constructor(settle: Settle, message: ConsumeMessage) {
    this.#settle = settle;
    this.#message = message;
    this.messageId = message.properties.messageId ?? `amqp-${message.fields.deliveryTag}`;
    this.body = message.content.toString('utf8');
  }

  /** Synchronous: the ack frame is queued on the channel, as a hand-written consumer does. */
  ack(): void {
    this.#settle.channel.ack(this.#message);
    this.#settle.stats.completed++;
  }

  async retry(body: string, delayMs: number): Promise<void> {
    await this.#settle.republish(this.messageId, body, delayMs, priorityOf(this.#message));
    this.#settle.channel.ack(this.#message);
    this.#settle.stats.failed++;
  }

  async dead(body: string): Promise<void> {
    await this.#settle.deadLetter(this.messageId, body);
    this.#settle.channel.ack(this.#message);
    this.#settle.stats.failed++;
  }

  async release(): Promise<void> {
    this.#settle.channel.nack(this.#message, false, true);
  }
}

/**
 * RabbitMQ provider: durable queues with publisher confirms, prefetch = concurrency, priority
 * queues (x-max-priority), delayed jobs and retries through TTL queues that dead-letter back into
 * the queue, a dead-letter queue wired as the queue's dead-letter exchange target, and once-per-tick
 * schedules through an exclusive-queue leader lock. Reconnects after broker restarts.
 */
export function rabbitmqProvider(options: RabbitmqProviderOptions): QueueProvider {
  const {
    maxPriority = 10,
    operationTimeoutMs = 10_000,
    reconnect = { type: 'exponential', delayMs: 100, maxDelayMs: 5_000, jitter: 'equal' },
  } = options;
  invariant(
    options?.connection,
    'rabbitmqProvider: pass connection (an amqp:// URL or connect options)',
    'NOA_MQ_INVALID_OPTION',
  );
  invariant(
    Number.isInteger(maxPriority) && maxPriority >= 0 && maxPriority <= 255,
    'rabbitmqProvider: maxPriority must be an integer from 0 to 255 (RabbitMQ advises at most 10)',
    'NOA_MQ_INVALID_OPTION',
  );
  const amqp = new AmqpConnection(options.connection, reconnect, options.socketOptions ?? { noDelay: true });
  const capabilities: ProviderCapabilities = {
    dedupe: false,
    delay: true,
    priority: maxPriority > 0,
    deadLetterAdmin: true,
    schedules: true,
  };
  /** Queues asserted on the current connection (cleared when it changes). */
  let asserted = new Set<string>();
  let assertedGeneration = -1;
  const buckets = new Map<string, Set<number>>();
  const counts = localCounts();
  const consumersOf = new Map<string, Set<InFlight>>();
  const slotsOf = (queue: string) => getOrCreate(consumersOf, queue, () => new Set<InFlight>());
  const locks = new Map<string, { generation: number; lastTick: number }>();

  const assertOnce = async (channel: Channel, name: string, args: Options.AssertQueue) => {
    if (assertedGeneration !== amqp.generation) {
      asserted = new Set();
      assertedGeneration = amqp.generation;
    }
    if (asserted.has(name)) return;
    await channel.assertQueue(name, args);
    asserted.add(name);
  };
  const assertQueue = async (channel: Channel, queue: string) => {
    const n = names(queue);
    await assertOnce(channel, n.dead, { durable: true });
    await assertOnce(channel, queue, {
      durable: true,
      deadLetterExchange: '',
      deadLetterRoutingKey: n.dead,
      ...(maxPriority > 0 ? { maxPriority } : {}),
    });
  };
  const assertDelay = async (channel: Channel, queue: string, bucket: number) => {
    let set = buckets.get(queue);
    if (!set) buckets.set(queue, (set = new Set()));
    set.add(bucket);
    await assertOnce(channel, names(queue).delay(bucket), {
      durable: true,
      deadLetterExchange: '',
      deadLetterRoutingKey: queue,
    });
  };

  /**
   * Only what a guarantee needs: persistence, the job id (dead-letter lookup by id) and the
   * priority. The record in the body already carries its publish time and is always JSON, so a
   * timestamp or content type would only add broker work to every message.
   */
  const properties = (m: { id: string; priority: number }): Options.Publish =>
    m.priority > 0
      ? { persistent: true, messageId: m.id, priority: Math.min(m.priority, maxPriority) }
      : { persistent: true, messageId: m.id };

  /** Publishes with confirms; a delay goes through the TTL queue of its bucket. */
  const send = async (queue: string, m: { id: string; body: string; delayMs: number; priority: number }) => {
    const channel = await amqp.publisher();
    await assertQueue(channel, queue);
    if (m.delayMs > 0) {
      const bucket = delayBucket(m.delayMs);
      await assertDelay(channel, queue, bucket);
      const delayed = properties(m);
      delayed.expiration = String(Math.round(m.delayMs));
      return confirmSend(channel, names(queue).delay(bucket), m.body, delayed);
    }
    return confirmSend(channel, queue, m.body, properties(m));
  };

  /** The hot path: channel open and queue declared, so no awaits before the send itself. */
  const sendNow = (queue: string, m: OutgoingMessage): Promise<void> => {
    const channel = amqp.publisherNow;
    if (channel && m.delayMs === 0 && assertedGeneration === amqp.generation && asserted.has(queue))
      return confirmSend(channel, queue, m.body, properties(m));
    return send(queue, m);
  };

  const sendTo = async (target: string, queue: string, m: { id: string; body: string }) => {
    const channel = await amqp.publisher();
    await assertQueue(channel, queue);
    return confirmSend(channel, target, m.body, properties({ id: m.id, priority: 0 }));
  };

  /** A short-lived channel for admin work; closing it requeues whatever it fetched and did not ack. */
  const withChannel = <T>(fn: (channel: Channel) => Promise<T>) =>
    amqp.withRetry(operationTimeoutMs, async () => {
      const channel = await (await amqp.connection()).createChannel();
      channel.on('error', () => {});
      try {
        return await fn(channel);
      } finally {
        await channel.close().catch(() => {});
      }
    });

  return {
    name: 'rabbitmq',
    capabilities: () => capabilities,

    publish(queue: string, messages: OutgoingMessage[]) {
      // Lost connection or channel: resend once it is back (duplicates, never losses).
      if (messages.length === 1) {
        const m = messages[0]!;
        return sendNow(queue, m).catch(() => amqp.withRetry(operationTimeoutMs, () => send(queue, m)));
      }
      const all = (sendOne: (queue: string, m: OutgoingMessage) => Promise<void>) =>
        Promise.all(messages.map((m) => sendOne(queue, m))).then(() => {});
      return all(sendNow).catch(() => amqp.withRetry(operationTimeoutMs, () => all(send)));
    },

    consume(queue: string, consume: ConsumeOptions): ProviderConsumer {
      const slots = new InFlight(consume.concurrency);
      const stats = counts(queue);
      slotsOf(queue).add(slots);
      let closing = false;
      let current: { channel: Channel; consumerTag?: string } | undefined;
      let wake: (() => void) | undefined;

      const subscribe = async () => {
        const channel = await (await amqp.connection()).createChannel();
        const closed = new Promise<void>((resolve) => {
          channel.on('close', resolve);
          wake = resolve;
        });
        channel.on('error', (error) => consume.onError(error));
        await assertQueue(channel, queue);
        await channel.prefetch(consume.concurrency);
        current = { channel };
        const settle: Settle = {
          channel,
          stats,
          // Publish-confirmed before the ack: a crash in between duplicates, never loses.
          republish: (id, body, delayMs, priority) =>
            amqp.withRetry(operationTimeoutMs, () => send(queue, { id, body, delayMs, priority })),
          deadLetter: (id, body) =>
            amqp.withRetry(operationTimeoutMs, () => sendTo(names(queue).dead, queue, { id, body })),
        };
        const { consumerTag } = await channel.consume(queue, (message) => {
          if (!message) return; // cancelled by the broker (queue deleted): the loop re-subscribes
          slots.run(() => consume.onDelivery(new AmqpDelivery(settle, message)));
        });
        current.consumerTag = consumerTag;
        if (closing) await channel.cancel(consumerTag).catch(() => {});
        await closed;
      };

      const loop = (async () => {
        for (let attempt = 1; !closing; attempt++) {
          try {
            await subscribe();
            attempt = 0;
          } catch (error) {
            if (!closing) consume.onError(error);
          }
          if (!closing) await amqp.pause(Math.max(1, attempt));
        }
      })();

      return {
        async close() {
          closing = true;
          const active = current;
          if (active?.consumerTag) await active.channel.cancel(active.consumerTag).catch(() => {});
          await slots.idle();
          await active?.channel.close().catch(() => {});
          wake?.();
          await loop;
          slotsOf(queue).delete(slots);
        },
      };
    },

    async stats(queue: string): Promise<QueueStats> {
      const n = names(queue);
      const local = counts(queue);
      return withChannel(async (channel) => {
        await assertQueue(channel, queue);
        const main = await channel.checkQueue(queue);
        const dead = await channel.checkQueue(n.dead);
        let delayed = 0;
        for (const bucket of buckets.get(queue) ?? [])
          delayed += (await channel.checkQueue(n.delay(bucket))).messageCount;
        return {
          waiting: main.messageCount,
          active: [...slotsOf(queue)].reduce((sum, slots) => sum + slots.active, 0),
          delayed,
          completed: local.completed,
          failed: local.failed,
          dead: dead.messageCount,
        };
      });
    },

    async listDead(queue: string, limit: number): Promise<RawDeadLetter[]> {
      return withChannel(async (channel) => {
        await assertQueue(channel, queue);
        const out: RawDeadLetter[] = [];
        while (out.length < limit) {
          const message = await channel.get(names(queue).dead, { noAck: false });
          if (!message) break;
          // Set when the broker itself dead-lettered it (a policy's TTL or length limit, a reject).
          const death = (
            message.properties.headers?.['x-death'] as { reason?: string; time?: number }[] | undefined
          )?.[0];
          out.push({
            id: message.properties.messageId ?? `amqp-${message.fields.deliveryTag}`,
            body: message.content.toString('utf8'),
            ...(death?.time ? { failedAt: amqpTimeMs(death.time) } : {}),
            ...(death?.reason ? { reason: `dead-lettered by RabbitMQ: ${death.reason}` } : {}),
          });
        }
        return out; // closing the channel puts every fetched message back
      });
    },

    async retryDead(queue: string, id: string, rewrite: (body: string) => string) {
      return withChannel(async (channel) => {
        await assertQueue(channel, queue);
        for (;;) {
          const message = await channel.get(names(queue).dead, { noAck: false });
          if (!message) return false;
          if ((message.properties.messageId ?? '') !== id) continue;
          await send(queue, {
            id,
            body: rewrite(message.content.toString('utf8')),
            delayMs: 0,
            priority: priorityOf(message),
          });
          channel.ack(message);
          return true;
        }
      });
    },

    async purgeDead(queue: string) {
      return withChannel(async (channel) => {
        await assertQueue(channel, queue);
        return (await channel.purgeQueue(names(queue).dead)).messageCount;
      });
    },

    /**
     * The scheduler holding the exclusive queue noa.schedule.<name> is the leader and fires every
     * tick; the others get RESOURCE_LOCKED. The lock dies with the leader's connection.
     */
    async claimTick(name: string, tickMs: number) {
      const held = locks.get(name);
      if (held && held.generation === amqp.generation && amqp.generation > 0) {
        if (tickMs <= held.lastTick) return false;
        held.lastTick = tickMs;
        return true;
      }
      const model = await amqp.connection();
      const generation = amqp.generation;
      const channel = await model.createChannel();
      channel.on('error', () => {});
      try {
        await channel.assertQueue(scheduleLock(name), {
          exclusive: true,
          autoDelete: false,
          durable: false,
        });
      } catch {
        return false; // another scheduler holds it
      }
      await channel.close().catch(() => {});
      locks.set(name, { generation, lastTick: tickMs });
      return true;
    },

    async releaseTick(name: string) {
      const held = locks.get(name);
      locks.delete(name);
      if (!held || held.generation !== amqp.generation) return; // the lock died with its connection
      await withChannel((channel) => channel.deleteQueue(scheduleLock(name)));
    },

    async close() {
      await amqp.close();
    },
  };
}
