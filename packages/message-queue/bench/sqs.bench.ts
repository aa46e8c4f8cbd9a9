import {
  GetQueueUrlCommand,
  PurgeQueueCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type SQSClientConfig,
} from '@aws-sdk/client-sqs';
import { type BenchTable, compare, renderText, uniqueName } from '@noa/testkit';
import { Consumer } from 'sqs-consumer';
import { createQueueManager } from '../src/index.js';
import { sqsProvider } from '../src/providers/sqs.js';
import { deleteSqsQueues } from '../test/fixtures/cleanup.js';
import { counter, drainTable, managerDrain } from './drain.js';

/** Against sqs-consumer (and the SDK used directly for publishing), both on the fauxqs emulator. */
export async function sqsBench(config: SQSClientConfig, quick: boolean): Promise<BenchTable[]> {
  const timeMs = quick ? 200 : 500;
  const rounds = quick ? 2 : 5;
  const sqs = new SQSClient(config);
  const mq = createQueueManager({
    provider: sqsProvider({ client: sqs, waitTimeSeconds: 1 }),
    closeOnSignals: false,
  });
  const ours = uniqueName('mqbench').replace(/_/g, '-');
  const theirs = uniqueName('sqsbench').replace(/_/g, '-');
  await mq.stats(ours); // creates the queue and its dead-letter queue
  await mq.stats(theirs); // the same queue shape for the peer
  const theirsUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: theirs }))).QueueUrl!;
  const data = { to: 'ada@example.com', template: 'welcome', n: 1 };
  const body = JSON.stringify(data);
  const tables: BenchTable[] = [];

  tables.push(
    (
      await compare(
        'SQS (fauxqs): publish one message, 16 in flight',
        {
          '@noa/message-queue publish': () => mq.publish(ours, data),
          '@aws-sdk SendMessage': () =>
            sqs.send(new SendMessageCommand({ QueueUrl: theirsUrl, MessageBody: body })),
        },
        { id: 'mq-sqs-publish', timeMs, rounds, concurrency: 16 },
      )
    ).table,
  );
  await mq.deadLetters(ours).purge();
  await sqs.send(
    new PurgeQueueCommand({
      QueueUrl: (await sqs.send(new GetQueueUrlCommand({ QueueName: ours }))).QueueUrl!,
    }),
  );
  await sqs.send(new PurgeQueueCommand({ QueueUrl: theirsUrl }));

  const count = quick ? 500 : 3_000;
  const concurrency = 10;
  const table = await drainTable(
    'mq-sqs-consume',
    `SQS (fauxqs): receive, handle (no-op) and delete, ${concurrency} at a time`,
    {
      '@noa/message-queue worker': managerDrain(mq, ours, data, concurrency),
      'sqs-consumer': {
        fill: async (n) => {
          for (let i = 0; i < n; i += 10)
            await sqs.send(
              new SendMessageBatchCommand({
                QueueUrl: theirsUrl,
                Entries: Array.from({ length: Math.min(10, n - i) }, (_, j) => ({
                  Id: String(j),
                  MessageBody: body,
                })),
              }),
            );
        },
        drain: async (n) => {
          const seen = counter();
          const done = seen.until(n);
          const consumer = Consumer.create({
            queueUrl: theirsUrl,
            sqs,
            batchSize: concurrency,
            waitTimeSeconds: 1,
            handleMessage: async (message) => {
              JSON.parse(message.Body ?? 'null');
              seen.hit();
              return message;
            },
          });
          const stopped = new Promise((resolve) => consumer.once('stopped', resolve));
          consumer.start();
          await done;
          consumer.stop();
          await stopped;
        },
      },
    },
    {
      count,
      rounds: quick ? 1 : 3,
      notes: [
        'sqs-consumer receives up to 10, runs them together, deletes in one batch, then receives again',
      ],
    },
  );
  console.log(renderText(table));
  tables.push(table);

  await mq.close();
  await deleteSqsQueues(config, [ours, theirs]);
  sqs.destroy();
  return tables;
}
