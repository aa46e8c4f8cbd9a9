/**
 * SQS FIFO receives that return several messages of one group. Real SQS does this ("as many
 * messages with the same message group ID as possible"); the fauxqs emulator returns at most one
 * per group, so this case runs against a fake SQS client, named as such.
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { waitUntil } from '@noa/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createQueueManager, type QueueManager } from '../src/index.js';
import { sqsProvider } from '../src/providers/sqs.js';

const job = (id: string) =>
  JSON.stringify({ v: 1, id, data: id, attempt: 0, maxAttempts: 3, publishedAt: Date.now(), history: [] });

/** Answers the calls the provider makes; the first receive returns `batch`, later ones nothing. */
class FakeFifoSqs {
  readonly deleted: string[] = [];
  readonly visibility: { handle: string; seconds: number }[] = [];
  #batch: Message[];

  constructor(messages: { id: string; group: string }[]) {
    this.#batch = messages.map(({ id, group }) => ({
      MessageId: `m-${id}`,
      ReceiptHandle: id,
      Body: job(id),
      Attributes: { ApproximateReceiveCount: '1', MessageGroupId: group },
    }));
  }

  async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
    const input = command.input;
    switch (command.constructor.name) {
      case 'GetQueueUrlCommand':
        return { QueueUrl: `fake://${input.QueueName}` };
      case 'GetQueueAttributesCommand':
        return { Attributes: { QueueArn: 'arn:fake' } };
      case 'ReceiveMessageCommand': {
        const messages = this.#batch.splice(0);
        if (messages.length === 0) await new Promise((r) => setTimeout(r, 10));
        return { Messages: messages };
      }
      case 'DeleteMessageBatchCommand':
        for (const e of input.Entries as { ReceiptHandle: string }[]) this.deleted.push(e.ReceiptHandle);
        return { Failed: [] };
      case 'ChangeMessageVisibilityCommand':
        this.visibility.push({
          handle: input.ReceiptHandle as string,
          seconds: input.VisibilityTimeout as number,
        });
        return {};
      default:
        return {};
    }
  }

  destroy(): void {}
}

describe('sqs FIFO: several messages of one group in one receive (fake SQS client)', () => {
  const managers: QueueManager[] = [];
  const setup = (fake: FakeFifoSqs) => {
    const mq = createQueueManager({
      provider: sqsProvider({ client: fake as unknown as SQSClient }),
      closeOnSignals: false,
      defaults: { backoff: { type: 'fixed', delayMs: 2_000, jitter: false } },
    });
    managers.push(mq);
    return mq;
  };
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((mq) => mq.close({ timeoutMs: 1_000 })));
  });

  it('runs them one at a time in order, other groups alongside', async () => {
    const fake = new FakeFifoSqs([
      { id: 'g1', group: 'g' },
      { id: 'g2', group: 'g' },
      { id: 'h1', group: 'h' },
      { id: 'g3', group: 'g' },
    ]);
    const mq = setup(fake);
    const events: string[] = [];
    mq.process(
      'orders.fifo',
      async (j) => {
        events.push(`start ${j.id}`);
        await new Promise((r) => setTimeout(r, 30));
        events.push(`end ${j.id}`);
      },
      { concurrency: 10 },
    );
    await waitUntil(() => fake.deleted.length === 4, { timeoutMs: 5_000 });
    const g = events.filter((e) => e.endsWith('g1') || e.endsWith('g2') || e.endsWith('g3'));
    expect(g).toEqual(['start g1', 'end g1', 'start g2', 'end g2', 'start g3', 'end g3']);
    expect(events.indexOf('start h1')).toBeLessThan(events.indexOf('end g1')); // h did not wait for g
  });

  it('hands the later messages of the group back unrun when an earlier one is retried', async () => {
    const fake = new FakeFifoSqs([
      { id: 'g1', group: 'g' },
      { id: 'g2', group: 'g' },
      { id: 'g3', group: 'g' },
    ]);
    const mq = setup(fake);
    const runs: string[] = [];
    mq.process(
      'orders.fifo',
      (j) => {
        runs.push(j.id);
        throw new Error('not yet');
      },
      { concurrency: 10 },
    );
    await waitUntil(() => fake.visibility.length === 3, { timeoutMs: 5_000 });
    expect(runs).toEqual(['g1']);
    expect(fake.visibility).toEqual([
      { handle: 'g1', seconds: 2 }, // retried after its backoff, still ahead of the others
      { handle: 'g2', seconds: 0 },
      { handle: 'g3', seconds: 0 },
    ]);
    expect(fake.deleted).toEqual([]);
  });
});
