import { randomUUID } from 'node:crypto';
import { type BenchTable, compare, renderText, uniqueName } from '@noa/testkit';
import { connect } from 'amqplib';
import { createQueueManager } from '../src/index.js';
import { encodeRecord } from '../src/internal/job-record.js';
import { rabbitmqProvider } from '../src/providers/rabbitmq.js';
import { deleteRabbitQueues } from '../test/fixtures/cleanup.js';
import { counter, drainTable, managerDrain } from './drain.js';

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
  /** A fresh queue for each side, of the same shape: durable, priority-capable, dead-lettering. */
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
  const queuePair = async () => {
    const ours = uniqueName('mqbench');
    created.push(ours);
    await mq.stats(ours);
    return { ours, theirs: await peerQueue() };
  };
  let { ours, theirs } = await queuePair();
  const theirsEnveloped = await peerQueue();
  const data = { to: 'ada@example.com', template: 'welcome', n: 1 };
  const body = Buffer.from(JSON.stringify(data));
  // What a hand-written publisher does per message: serialize, send persistent, await the confirm.
  const direct = () =>
    new Promise<void>((resolve, reject) =>
      confirm.sendToQueue(
        theirs,
        Buffer.from(JSON.stringify(data)),
        { persistent: true, contentType: 'application/json' },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  // The same bytes our publish sends (the job envelope, and its id as messageId) through amqplib:
  // separates what the message costs the broker from what the library costs.
  const enveloped = () => {
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
    return new Promise<void>((resolve, reject) =>
      confirm.sendToQueue(
        theirsEnveloped,
        Buffer.from(record),
        { persistent: true, messageId: id },
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  };
  const tables: BenchTable[] = [];
  for (const concurrency of [1, 32]) {
    tables.push(
      (
        await compare(
          `RabbitMQ: publish one persistent message with publisher confirms, ${concurrency} in flight`,
          {
            '@noa/message-queue publish': () => mq.publish(ours, data),
            'amqplib sendToQueue + confirm': direct,
            'amqplib, our message (job envelope + messageId)': enveloped,
          },
          { id: `mq-rabbitmq-publish-c${concurrency}`, timeMs, rounds, concurrency },
        )
      ).table,
    );
  }
  // Consume from fresh queues: what the publish tables left behind in the broker (purged messages,
  // index state) differs between the two queues and swung this table by 2x either way.
  ({ ours, theirs } = await queuePair());
  const { ours: oursForPeer } = await queuePair();
  const count = quick ? 2_000 : 10_000;
  const prefetch = 50;
  const peerFill = async (n: number) => {
    for (let i = 0; i < n; i++) confirm.sendToQueue(theirs, body, { persistent: true });
    await confirm.waitForConfirms();
  };
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
  const table = await drainTable(
    'mq-rabbitmq-consume',
    `RabbitMQ: consume and acknowledge with a no-op handler, prefetch ${prefetch}`,
    {
      '@noa/message-queue worker': managerDrain(mq, ours, data, prefetch),
      'amqplib consume + ack': { fill: peerFill, drain: peerDrain(theirs) },
      // Our messages (filled through our publishBatch) consumed by the same amqplib code.
      'amqplib consume + ack, our messages': {
        fill: managerDrain(mq, oursForPeer, data, prefetch).fill,
        drain: peerDrain(oursForPeer),
      },
    },
    // Rounds swing up to 2x on this shared broker, so take the median of more of them.
    { count, rounds: quick ? 1 : 7 },
  );
  console.log(renderText(table));
  tables.push(table);

  await mq.close();
  await confirm.close();
  await connection.close();
  await deleteRabbitQueues(url, created);
  return tables;
}
