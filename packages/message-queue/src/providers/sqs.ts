import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  PurgeQueueCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import { invariant, NoaError } from '@noa/core';
import { Batcher } from '../internal/batcher.js';
import { GroupOrder } from '../internal/group-order.js';
import { decodeRecord, encodeRecord } from '../internal/job-record.js';
import { getOrCreate, localCounts } from '../internal/local-counts.js';
import { PollLoop } from '../internal/poll-loop.js';
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

export interface SqsProviderOptions {
  /** Your SQSClient (close() leaves it alone), or `clientConfig` to build one. */
  client?: SQSClient;
  clientConfig?: SQSClientConfig;
  /** Create missing queues (and their dead-letter queue with a redrive policy). Default true. */
  createQueues?: boolean;
  /** Long-polling wait of each receive, 0-20 s. Default 20. */
  waitTimeSeconds?: number;
  /**
   * Receives after which SQS's redrive policy moves a message to the dead-letter queue by itself:
   * catches messages whose worker keeps dying, since ordinary failures are dead-lettered with
   * their history by the worker. Default 5.
   */
  maxReceiveCount?: number;
}

const MAX_DELAY_S = 900;
const MAX_VISIBILITY_S = 43_200;
const NAME = /^[A-Za-z0-9_-]{1,75}(\.fifo)?$/;

const isFifo = (queue: string) => queue.endsWith('.fifo');
const deadName = (queue: string) => (isFifo(queue) ? `${queue.slice(0, -5)}-dead.fifo` : `${queue}-dead`);
const seconds = (ms: number, max: number) => Math.min(max, Math.max(0, Math.ceil(ms / 1000)));

/** A body's job id, for finding a dead message; malformed bodies fall back to the SQS message id. */
function bodyId(message: Message): string {
  try {
    return decodeRecord(message.Body ?? '').id;
  } catch {
    return message.MessageId ?? '';
  }
}

/**
 * Amazon SQS provider: long polling, batched receive and delete, visibility extended while
 * handlers run, a redrive policy to each queue's dead-letter queue, FIFO queues (name ending in
 * .fifo) with group ids and deduplication ids. Delays beyond SQS's 15 minutes are chained.
 */
export function sqsProvider(options: SqsProviderOptions = {}): QueueProvider {
  const { createQueues = true, waitTimeSeconds = 20, maxReceiveCount = 5 } = options;
  invariant(
    Number.isInteger(waitTimeSeconds) && waitTimeSeconds >= 0 && waitTimeSeconds <= 20,
    'sqsProvider: waitTimeSeconds must be an integer from 0 to 20',
    'NOA_MQ_INVALID_OPTION',
  );
  invariant(
    Number.isInteger(maxReceiveCount) && maxReceiveCount >= 1 && maxReceiveCount <= 1000,
    'sqsProvider: maxReceiveCount must be an integer from 1 to 1000',
    'NOA_MQ_INVALID_OPTION',
  );
  const owned = !options.client;
  const sqs = options.client ?? new SQSClient(options.clientConfig ?? {});
  const urls = new Map<string, Promise<{ url: string; dead: string }>>();
  const counter = localCounts();

  const checkName = (queue: string) => {
    if (!NAME.test(queue))
      throw new NoaError(
        'NOA_MQ_INVALID_QUEUE',
        `SQS queue names are 1-75 letters, digits, - or _ (plus .fifo for FIFO queues), got ${JSON.stringify(queue)}`,
      );
  };

  const resolveUrl = async (name: string, attributes: () => Promise<Record<string, string>>) => {
    try {
      return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
    } catch (error) {
      if (!(error instanceof QueueDoesNotExist) || !createQueues) throw error;
      const created = await sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: await attributes() }),
      );
      return created.QueueUrl!;
    }
  };

  /** The queue's URL and its dead-letter queue's, creating both (with the redrive policy) when missing. */
  const queueUrls = (queue: string): Promise<{ url: string; dead: string }> => {
    let found = urls.get(queue);
    if (!found) {
      checkName(queue);
      const fifo: Record<string, string> = isFifo(queue) ? { FifoQueue: 'true' } : {};
      found = (async () => {
        const dead = await resolveUrl(deadName(queue), async () => ({
          ...fifo,
          MessageRetentionPeriod: '1209600',
        }));
        const arn = (
          await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dead, AttributeNames: ['QueueArn'] }))
        ).Attributes?.QueueArn;
        const url = await resolveUrl(queue, async () => ({
          ...fifo,
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount }),
        }));
        return { url, dead };
      })();
      found.catch(() => urls.delete(queue));
      urls.set(queue, found);
    }
    return found;
  };
  const urlOf = async (queue: string) => (await queueUrls(queue)).url;
  const deadUrlOf = async (queue: string) => (await queueUrls(queue)).dead;

  const deleters = new Map<string, Batcher<string>>();
  const deleter = (url: string) =>
    getOrCreate(
      deleters,
      url,
      () =>
        new Batcher<string>(10, async (handles) => {
          const result = await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: url,
              Entries: handles.map((ReceiptHandle, i) => ({ Id: String(i), ReceiptHandle })),
            }),
          );
          const failed = new Map((result.Failed ?? []).map((f) => [f.Id, f]));
          return handles.map((_, i) => {
            const f = failed.get(String(i));
            return f
              ? new NoaError(
                  'NOA_MQ_ACK_FAILED',
                  `SQS could not delete a message: ${f.Code} ${f.Message ?? ''}`,
                )
              : undefined;
          });
        }),
    );

  /** Sends one body to a queue; delays past 15 minutes carry runAt and are re-delayed on receipt. */
  const sendOne = async (
    url: string,
    queue: string,
    body: string,
    delayMs: number,
    groupId?: string,
    dedupeId?: string,
  ) => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: body,
        ...(isFifo(queue)
          ? { MessageGroupId: groupId ?? 'default', MessageDeduplicationId: dedupeId }
          : { DelaySeconds: seconds(delayMs, MAX_DELAY_S) }),
      }),
    );
  };

  const withRunAt = (body: string, delayMs: number) => {
    if (delayMs <= MAX_DELAY_S * 1000) return body;
    try {
      return encodeRecord({ ...decodeRecord(body), runAt: Date.now() + delayMs });
    } catch {
      return body;
    }
  };

  return {
    name: 'sqs',
    capabilities(queue: string): ProviderCapabilities {
      const fifo = isFifo(queue);
      return { dedupe: fifo, delay: !fifo, priority: false, deadLetterAdmin: true, schedules: fifo };
    },

    async publish(queue: string, messages: OutgoingMessage[]) {
      const url = await urlOf(queue);
      const fifo = isFifo(queue);
      if (messages.length === 1) {
        const m = messages[0]!;
        await sendOne(url, queue, m.body, m.delayMs, m.groupId, m.id);
        return;
      }
      for (let start = 0; start < messages.length; start += 10) {
        const chunk = messages.slice(start, start + 10);
        const result = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: chunk.map((m, i) => ({
              Id: String(i),
              MessageBody: m.body,
              ...(fifo
                ? { MessageGroupId: m.groupId ?? 'default', MessageDeduplicationId: m.id }
                : { DelaySeconds: seconds(m.delayMs, MAX_DELAY_S) }),
            })),
          }),
        );
        if (result.Failed?.length) {
          const f = result.Failed[0]!;
          throw new NoaError(
            'NOA_MQ_PUBLISH_FAILED',
            `SQS refused ${result.Failed.length} of ${chunk.length} messages (${f.Code}: ${f.Message ?? ''}); the others were sent`,
          );
        }
      }
    },

    consume(queue: string, consume: ConsumeOptions): ProviderConsumer {
      const fifo = isFifo(queue);
      const visibility = seconds(consume.lockMs, MAX_VISIBILITY_S);
      const stats = counter(queue);
      let url = '';
      const setVisibility = (message: Message, timeoutS: number) =>
        sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: url,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: timeoutS,
          }),
        );
      const remove = (message: Message) => deleter(url).add(message.ReceiptHandle!);

      /** `done` runs once the message is deleted for good (acknowledged or dead-lettered). */
      const delivery = (message: Message, done?: () => void): Delivery => {
        const received = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
        const groupId = message.Attributes?.MessageGroupId;
        return {
          messageId: message.MessageId ?? '',
          body: message.Body ?? '',
          ...(fifo ? { attempt: received } : {}),
          ack: async () => {
            await remove(message);
            stats.completed++;
            done?.();
          },
          retry: async (body, delayMs) => {
            // FIFO: keep the group's order by making this very message visible again later.
            if (fifo) await setVisibility(message, seconds(delayMs, MAX_VISIBILITY_S));
            else {
              await sendOne(url, queue, withRunAt(body, delayMs), delayMs);
              await remove(message);
            }
            stats.failed++;
          },
          dead: async (body) => {
            await sendOne(
              await deadUrlOf(queue),
              deadName(queue),
              body,
              0,
              groupId,
              `${message.MessageId}-${received}`,
            );
            await remove(message);
            stats.failed++;
            done?.();
          },
          release: async () => {
            await setVisibility(message, 0);
          },
          progress: async () => {
            await setVisibility(message, visibility);
          },
        };
      };

      let closing = false;
      /** FIFO: the receive each message came in, whose messages of one group run in turn. */
      const receivedIn = new WeakMap<Message, GroupOrder>();
      const handBack = (message: Message) => setVisibility(message, 0).then(() => {}, consume.onError);
      const inGroupOrder = (message: Message) =>
        receivedIn.get(message)!.add(
          message.Attributes?.MessageGroupId ?? 'default',
          async () => {
            if (closing) {
              await handBack(message);
              return false;
            }
            let finished = false;
            await consume.onDelivery(
              delivery(message, () => {
                finished = true;
              }),
            );
            return finished;
          },
          () => handBack(message),
        );

      const loop = new PollLoop<Message>({
        concurrency: consume.concurrency,
        pollers: Math.min(10, Math.ceil(consume.concurrency / 10)),
        onError: consume.onError,
        deliver: (message) => (fifo ? inGroupOrder(message) : consume.onDelivery(delivery(message))),
        fetch: async (max, signal) => {
          url ||= await urlOf(queue);
          const result = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: url,
              MaxNumberOfMessages: Math.min(10, max),
              WaitTimeSeconds: waitTimeSeconds,
              VisibilityTimeout: visibility,
              MessageSystemAttributeNames: ['ApproximateReceiveCount', 'MessageGroupId'],
            }),
            { abortSignal: signal },
          );
          const ready: Message[] = [];
          for (const message of result.Messages ?? []) {
            const runAt = (() => {
              try {
                return decodeRecord(message.Body ?? '').runAt ?? 0;
              } catch {
                return 0;
              }
            })();
            const wait = runAt - Date.now();
            if (wait > 1000 && !fifo) {
              // A chained long delay: send on for the next leg.
              await sendOne(url, queue, message.Body ?? '', wait);
              await remove(message);
            } else ready.push(message);
          }
          if (fifo) {
            const order = new GroupOrder();
            for (const message of ready) receivedIn.set(message, order);
          }
          return ready;
        },
        extend: {
          // A third of the visibility timeout, so an extension always lands well before it expires.
          everyMs: Math.max(250, Math.floor((visibility * 1000) / 3)),
          run: async (messages) => {
            for (let i = 0; i < messages.length; i += 10) {
              await sqs.send(
                new ChangeMessageVisibilityBatchCommand({
                  QueueUrl: url,
                  Entries: messages.slice(i, i + 10).map((m, j) => ({
                    Id: String(j),
                    ReceiptHandle: m.ReceiptHandle,
                    VisibilityTimeout: visibility,
                  })),
                }),
              );
            }
          },
        },
      });
      return {
        close: () => {
          closing = true;
          return loop.close();
        },
      };
    },

    async stats(queue: string): Promise<QueueStats> {
      const attributes = async (url: string) =>
        (
          await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: url,
              AttributeNames: [
                'ApproximateNumberOfMessages',
                'ApproximateNumberOfMessagesNotVisible',
                'ApproximateNumberOfMessagesDelayed',
              ],
            }),
          )
        ).Attributes ?? {};
      const [main, dead] = await Promise.all([
        attributes(await urlOf(queue)),
        attributes(await deadUrlOf(queue)),
      ]);
      const local = counter(queue);
      return {
        waiting: Number(main.ApproximateNumberOfMessages ?? 0),
        active: Number(main.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(main.ApproximateNumberOfMessagesDelayed ?? 0),
        completed: local.completed,
        failed: local.failed,
        dead: Number(dead.ApproximateNumberOfMessages ?? 0),
      };
    },

    async listDead(queue: string, limit: number): Promise<RawDeadLetter[]> {
      const url = await deadUrlOf(queue);
      const seen = await receiveAll(url, limit);
      await releaseAll(url, seen);
      return seen.map((m) => ({
        id: bodyId(m),
        body: m.Body ?? '',
        ...(m.Attributes?.SentTimestamp ? { failedAt: Number(m.Attributes.SentTimestamp) } : {}),
        ...(Number(m.Attributes?.ApproximateReceiveCount ?? 0) > 0 && !m.Body?.includes('"history"')
          ? { reason: 'moved by the SQS redrive policy' }
          : {}),
      }));
    },

    async retryDead(queue: string, id: string, rewrite: (body: string) => string) {
      const url = await deadUrlOf(queue);
      const seen = await receiveAll(url, 10_000, (m) => bodyId(m) === id);
      const found = seen.find((m) => bodyId(m) === id);
      if (found) {
        await sendOne(
          await urlOf(queue),
          queue,
          rewrite(found.Body ?? ''),
          0,
          found.Attributes?.MessageGroupId,
          `${id}-retry-${Date.now()}`,
        );
        await deleter(url).add(found.ReceiptHandle!);
      }
      await releaseAll(
        url,
        seen.filter((m) => m !== found),
      );
      return found !== undefined;
    },

    async purgeDead(queue: string) {
      const url = await deadUrlOf(queue);
      const before = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
      return Number(before.Attributes?.ApproximateNumberOfMessages ?? 0);
    },

    async close() {
      if (owned) sqs.destroy();
    },
  };

  /** Receives (hiding for 30 s) until `limit`, an empty receive, or `stop` matches. */
  async function receiveAll(url: string, limit: number, stop?: (m: Message) => boolean): Promise<Message[]> {
    const out: Message[] = [];
    while (out.length < limit) {
      const result = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: Math.min(10, limit - out.length),
          WaitTimeSeconds: 0,
          VisibilityTimeout: 30,
          MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount', 'MessageGroupId'],
        }),
      );
      const messages = result.Messages ?? [];
      if (messages.length === 0) break;
      out.push(...messages);
      if (stop && messages.some(stop)) break;
    }
    return out;
  }

  async function releaseAll(url: string, messages: Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: messages
            .slice(i, i + 10)
            .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
        }),
      );
    }
  }
}
