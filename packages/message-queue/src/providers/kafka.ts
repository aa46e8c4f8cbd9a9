import { invariant } from '@noa/core';
import type { Admin, Consumer, EachMessagePayload, IHeaders, Kafka, Producer } from 'kafkajs';
import { localCounts } from '../internal/local-counts.js';
import { unsupported } from '../internal/validate.js';
import type {
  ConsumeOptions,
  Delivery,
  OutgoingMessage,
  ProviderCapabilities,
  ProviderConsumer,
  QueueProvider,
} from '../provider.js';
import type { QueueStats } from '../types.js';

export interface KafkaProviderOptions {
  /** Your kafkajs instance (brokers, TLS, SASL live there). */
  kafka: Kafka;
  /** Consumer group of a queue's workers. Default `noa-mq.<queue>`. */
  groupId?: (queue: string) => string;
  /** Topic failed attempts wait in until their backoff passes. Default `<queue>.retry`. */
  retryTopic?: (queue: string) => string;
  /** Topic of jobs that failed their last attempt (and malformed messages). Default `<queue>.dlq`. */
  deadTopic?: (queue: string) => string;
}

const capabilities: ProviderCapabilities = {
  dedupe: false,
  delay: false,
  priority: false,
  deadLetterAdmin: false,
  schedules: false,
};

const DUE_HEADER = 'noa-due-at';
/**
 * kafkajs heartbeats only between messages, so a handler running past the session timeout would
 * cost the partition (a rebalance, then a second run elsewhere). While a handler runs we call the
 * payload's heartbeat() this often; kafkajs itself sends at most one per heartbeatInterval.
 */
const HEARTBEAT_MS = 1_000;
const ID_HEADER = 'noa-job-id';

const header = (headers: IHeaders | undefined, name: string): string | undefined => {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
};

/** Thrown out of eachMessage so kafkajs neither commits the offset nor moves past the message. */
class NotYet extends Error {
  constructor() {
    super('message handed back; it will be fetched again');
    this.name = 'NotYet';
  }
}

/**
 * Kafka provider: the topic is the queue, the key is the ordering group, one consumer group per
 * queue, one message at a time per partition (ordering kept), offsets committed only after the
 * handler settled. Failed attempts go to a retry topic whose consumer pauses the partition until
 * the backoff passes; last failures go to a DLQ topic. No delays, priorities, jobId dedupe,
 * DLQ admin or schedules: the manager refuses those with NOA_MQ_UNSUPPORTED.
 */
export function kafkaProvider(options: KafkaProviderOptions): QueueProvider {
  invariant(
    options?.kafka && typeof options.kafka.producer === 'function',
    'kafkaProvider: pass kafka, a kafkajs Kafka instance (new Kafka({ brokers }))',
    'NOA_MQ_INVALID_OPTION',
  );
  const {
    kafka,
    groupId = (queue) => `noa-mq.${queue}`,
    retryTopic = (queue) => `${queue}.retry`,
    deadTopic = (queue) => `${queue}.dlq`,
  } = options;
  let producer: Promise<Producer> | undefined;
  let admin: Promise<Admin> | undefined;
  const consumers = new Set<Consumer>();
  const counter = localCounts();
  const activeOf = new Map<string, number>();

  const getProducer = () => {
    producer ??= (async () => {
      // Idempotent: broker-side dedupe of the producer's own retries, so a retried send is not doubled.
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
      await p.connect();
      return p;
    })();
    producer.catch(() => {
      producer = undefined;
    });
    return producer;
  };
  const getAdmin = () => {
    admin ??= (async () => {
      const a = kafka.admin();
      await a.connect();
      return a;
    })();
    return admin;
  };

  const send = async (
    topic: string,
    messages: { key?: string | null; value: string; headers: IHeaders }[],
  ) => {
    await (await getProducer()).send({ topic, acks: -1, messages });
  };

  return {
    name: 'kafka',
    capabilities: () => capabilities,

    async publish(queue: string, messages: OutgoingMessage[]) {
      await send(
        queue,
        messages.map((m) => ({ key: m.groupId ?? null, value: m.body, headers: { [ID_HEADER]: m.id } })),
      );
    },

    consume(queue: string, consume: ConsumeOptions): ProviderConsumer {
      const stats = counter(queue);
      const retry = retryTopic(queue);
      const consumer = kafka.consumer({ groupId: groupId(queue), allowAutoTopicCreation: true });
      consumers.add(consumer);
      const resumeTimers = new Set<NodeJS.Timeout>();
      let closing = false;

      const eachMessage = async ({ topic, message, heartbeat, pause }: EachMessagePayload) => {
        if (closing) throw new NotYet();
        if (topic === retry) {
          const dueAt = Number(header(message.headers, DUE_HEADER) ?? 0);
          const waitMs = dueAt - Date.now();
          if (waitMs > 0) {
            // Park this partition until the backoff passes; the message is fetched again then.
            const resume = pause();
            const timer = setTimeout(() => {
              resumeTimers.delete(timer);
              resume();
            }, waitMs);
            timer.unref();
            resumeTimers.add(timer);
            throw new NotYet();
          }
        }
        const key = message.key?.toString() ?? null;
        const id = header(message.headers, ID_HEADER) ?? `${topic}-${message.offset}`;
        let released = false;
        const delivery: Delivery = {
          messageId: id,
          body: message.value?.toString('utf8') ?? '',
          ack: async () => {
            stats.completed++;
          },
          retry: async (body, delayMs) => {
            await send(retry, [
              { key, value: body, headers: { [ID_HEADER]: id, [DUE_HEADER]: String(Date.now() + delayMs) } },
            ]);
            stats.failed++;
          },
          dead: async (body, error) => {
            await send(deadTopic(queue), [
              { key, value: body, headers: { [ID_HEADER]: id, 'noa-error': error.slice(0, 1000) } },
            ]);
            stats.failed++;
          },
          release: async () => {
            released = true;
          },
          progress: () => heartbeat(),
        };
        activeOf.set(queue, (activeOf.get(queue) ?? 0) + 1);
        const alive = setInterval(() => {
          heartbeat().catch((error) => consume.onError(error));
        }, HEARTBEAT_MS);
        alive.unref();
        try {
          await consume.onDelivery(delivery);
        } finally {
          clearInterval(alive);
          activeOf.set(queue, (activeOf.get(queue) ?? 1) - 1);
        }
        // Returning commits the offset: only now, after the handler's outcome is durable.
        if (released) throw new NotYet();
      };

      const started = (async () => {
        await consumer.connect();
        await consumer.subscribe({ topics: [queue, retry], fromBeginning: true });
        await consumer.run({
          autoCommit: true,
          partitionsConsumedConcurrently: consume.concurrency,
          eachMessage,
        });
      })().catch((error) => consume.onError(error));

      return {
        async close() {
          closing = true;
          for (const timer of resumeTimers) clearTimeout(timer);
          await started;
          // kafkajs's disconnect waits for the eachMessage calls in progress, then commits.
          await consumer.disconnect().catch((error) => consume.onError(error));
          consumers.delete(consumer);
        },
      };
    },

    async stats(queue: string): Promise<QueueStats> {
      const a = await getAdmin();
      const lag = async (topic: string) => {
        const [ends, committed] = await Promise.all([
          a.fetchTopicOffsets(topic),
          a.fetchOffsets({ groupId: groupId(queue), topics: [topic] }),
        ]);
        const done = new Map(
          (committed[0]?.partitions ?? []).map((p) => [p.partition, Math.max(0, Number(p.offset))]),
        );
        return ends.reduce(
          (sum, p) => sum + Math.max(0, Number(p.high) - (done.get(p.partition) ?? Number(p.low))),
          0,
        );
      };
      const size = async (topic: string) =>
        (await a.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
      const local = counter(queue);
      const [waiting, delayed, dead] = await Promise.all([
        lag(queue).catch(() => 0),
        lag(retryTopic(queue)).catch(() => 0),
        size(deadTopic(queue)).catch(() => 0),
      ]);
      return {
        waiting,
        active: activeOf.get(queue) ?? 0,
        delayed,
        completed: local.completed,
        failed: local.failed,
        dead,
      };
    },

    async listDead() {
      throw unsupported('kafka', 'dead-letter listing', 'consume the <queue>.dlq topic with mq.process()');
    },
    async retryDead() {
      throw unsupported('kafka', 'dead-letter retry', 'republish from the <queue>.dlq topic');
    },
    async purgeDead() {
      throw unsupported('kafka', 'dead-letter purge', 'let the <queue>.dlq topic retention expire it');
    },

    async close() {
      await Promise.all([...consumers].map((c) => c.disconnect().catch(() => {})));
      consumers.clear();
      const [p, a] = [producer, admin];
      producer = undefined;
      admin = undefined;
      await Promise.all([
        p?.then((x) => x.disconnect()).catch(() => {}),
        a?.then((x) => x.disconnect()).catch(() => {}),
      ]);
    },
  };
}
