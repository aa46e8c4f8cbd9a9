import { randomUUID } from 'node:crypto';
import { type BenchTable, compare, renderText, uniqueName } from '@noa/testkit';
import { connect } from 'amqplib';
import { createQueueManager } from '../src/index.js';
import { encodeRecord } from '../src/internal/job-record.js';
import { rabbitmqProvider } from '../src/providers/rabbitmq.js';
import { deleteRabbitQueues } from '../test/fixtures/cleanup.js';
import { counter, type Drain, drainTable, managerDrain } from './drain.js';

/** A tiny payload, where the job envelope weighs most, and a 1 KB one, closer to real jobs. */
const small = { to: 'ada@example.com', template: 'welcome', n: 1 };
const kilobyte = { ...small, html: `<p>${'Welcome aboard. '.repeat(62)}</p>` };
const payloads = [
  { label: '', suffix: '', data: small },
  { label: ', 1 KB payload', suffix: '-1kb', data: kilobyte },
];

/** Publish with confirms and consume, against amqplib used directly on the same broker. */
export async function rabbitmqBench(url: string, quick: boolean): Promise<BenchTable[]> {
  const timeMs = quick ? 200 : 500;
  // Broker latency on this shared machine swings from round to round: more rounds steady the median.
  const rounds = quick ? 2 : 7;
  const mq = createQueueManager({ provider: rabbitmqProvider({ connection: url }), closeOnSignals: false });
  // The peer gets the same socket setting our provider uses (amqplib's default leaves Nagle on).
  const connection = await connect(url, { noDelay: true });
  const confirm = await connection.createConfirmChannel();
  const created: string[] = [];
  /** A fresh queue of the shape ours has: durable, priority-capable, dead-lettering. */
  const peerQueue = async () => {
    const queue = uniqueName('amqpbench');
    created.push(queue);
    await confirm.assertQueue(`${queue}.dead`, { durable: true });
    await confirm.assertQueue(queue, {
      durable: true,
      maxPriority: 10,
      deadLetterExchange: '',
      deadLetterRoutingKey: `${queue}.dead`,
    });
    return queue;
  };
  const ourQueue = async () => {
    const queue = uniqueName('mqbench');
    created.push(queue);
    await mq.stats(queue);
    return queue;
  };
  const sendConfirmed = (
    queue: string,
    content: Buffer,
    options: Parameters<typeof confirm.sendToQueue>[2],
  ) =>
    new Promise<void>((resolve, reject) =>
      confirm.sendToQueue(queue, content, options, (error) => (error ? reject(error) : resolve())),
    );

  const tables: BenchTable[] = [];
  const publishTable = async (data: object, concurrency: number, label: string, suffix: string) => {
    const [ours, theirs, theirsEnveloped] = [await ourQueue(), await peerQueue(), await peerQueue()];
    const { table } = await compare(
      `RabbitMQ: publish one persistent message with publisher confirms, ${concurrency} in flight${label}`,
      {
        '@noa/message-queue publish': () => mq.publish(ours, data),
        // What a hand-written publisher does per message: serialize, send persistent, await the confirm.
        'amqplib sendToQueue + confirm': () =>
          sendConfirmed(theirs, Buffer.from(JSON.stringify(data)), {
            persistent: true,
            contentType: 'application/json',
          }),
        // The bytes our publish sends (the job envelope, its id as messageId) through amqplib:
        // separates what the message costs the broker from what the library costs.
        'amqplib, our message (job envelope + messageId)': () => {
          const id = randomUUID();
          const record = encodeRecord({
            v: 1,
            id,
            data,
            attempt: 0,
            maxAttempts: 3,
            publishedAt: Date.now(),
            history: [],
          });
          return sendConfirmed(theirsEnveloped, Buffer.from(record), { persistent: true, messageId: id });
        },
      },
      { id: `mq-rabbitmq-publish-c${concurrency}${suffix}`, timeMs, rounds, concurrency },
    );
    tables.push(table);
  };
  await publishTable(small, 1, '', '');
  for (const { data, label, suffix } of payloads) await publishTable(data, 32, label, suffix);

  // Consume: every round drains a queue created for it. A queue's history in the broker (purged
  // and acknowledged messages, index state) swung this table by 2x either way when a queue was
  // reused across rounds, so no task drains a queue that another round has used.
  const count = quick ? 2_000 : 10_000;
  const prefetch = 50;
  const peerDrain = (queue: string) => async (n: number) => {
    const channel = await connection.createChannel();
    await channel.prefetch(prefetch);
    const seen = counter();
    const done = seen.until(n);
    const { consumerTag } = await channel.consume(queue, (message) => {
      if (!message) return;
      // Parse like a real consumer would, then acknowledge.
      JSON.parse(message.content.toString('utf8'));
      channel.ack(message);
      seen.hit();
    });
    await done;
    await channel.cancel(consumerTag);
    await channel.close();
  };
  for (const { data, label, suffix } of payloads) {
    const body = Buffer.from(JSON.stringify(data));
    const table = await drainTable(
      `mq-rabbitmq-consume${suffix}`,
      `RabbitMQ: consume and acknowledge with a no-op handler, prefetch ${prefetch}${label}`,
      {
        '@noa/message-queue worker': freshQueueEachRound(ourQueue, (queue) =>
          managerDrain(mq, queue, data, prefetch),
        ),
        'amqplib consume + ack': freshQueueEachRound(peerQueue, (queue) => ({
          fill: async (n) => {
            for (let i = 0; i < n; i++) confirm.sendToQueue(queue, body, { persistent: true });
            await confirm.waitForConfirms();
          },
          drain: peerDrain(queue),
        })),
        // Our messages (filled through our publishBatch) consumed by the same amqplib code.
        'amqplib consume + ack, our messages': freshQueueEachRound(ourQueue, (queue) => ({
          fill: managerDrain(mq, queue, data, prefetch).fill,
          drain: peerDrain(queue),
        })),
      },
      { count, rounds: quick ? 1 : 7, notes: ['each round on a queue of its own'] },
    );
    console.log(renderText(table));
    tables.push(table);
  }

  await mq.close();
  await confirm.close();
  await connection.close();
  await deleteRabbitQueues(url, created);
  return tables;
}

/** Fill and drain on a new queue each round (from `make`), the task built by `task` for it. */
function freshQueueEachRound(
  make: () => Promise<string>,
  task: (queue: string) => { fill: (count: number) => Promise<void>; drain: Drain },
): { fill: (count: number) => Promise<void>; drain: Drain } {
  let current: { fill: (count: number) => Promise<void>; drain: Drain } | undefined;
  return {
    fill: async (n) => {
      current = task(await make());
      await current.fill(n);
    },
    drain: (n) => current!.drain(n),
  };
}
