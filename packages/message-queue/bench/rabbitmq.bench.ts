import { type BenchTable, compare, renderText, uniqueName } from '@noa/testkit';
import { connect } from 'amqplib';
import { createQueueManager } from '../src/index.js';
import { rabbitmqProvider } from '../src/providers/rabbitmq.js';
import { deleteRabbitQueues } from '../test/fixtures/cleanup.js';
import { counter, drainTable, managerDrain } from './drain.js';

/** Publish with confirms and consume, against amqplib used directly on the same broker. */
export async function rabbitmqBench(url: string, quick: boolean): Promise<BenchTable[]> {
  const timeMs = quick ? 200 : 500;
  const rounds = quick ? 2 : 5;
  const mq = createQueueManager({ provider: rabbitmqProvider({ connection: url }), closeOnSignals: false });
  // The peer gets the same socket setting our provider uses (amqplib's default leaves Nagle on).
  const connection = await connect(url, { noDelay: true });
  const confirm = await connection.createConfirmChannel();
  const ours = uniqueName('mqbench');
  const theirs = uniqueName('amqpbench');
  // The same queue shape for both: durable, priority-capable, dead-lettering.
  await mq.stats(ours);
  await confirm.assertQueue(theirs, { durable: true, maxPriority: 10 });
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
  const tables: BenchTable[] = [];
  for (const concurrency of [1, 32]) {
    tables.push(
      (
        await compare(
          `RabbitMQ: publish one persistent message with publisher confirms, ${concurrency} in flight`,
          {
            '@noa/message-queue publish': () => mq.publish(ours, data),
            'amqplib sendToQueue + confirm': direct,
          },
          { id: `mq-rabbitmq-publish-c${concurrency}`, timeMs, rounds, concurrency },
        )
      ).table,
    );
  }
  await confirm.purgeQueue(ours);
  await confirm.purgeQueue(theirs);

  const count = quick ? 2_000 : 10_000;
  const prefetch = 50;
  const table = await drainTable(
    'mq-rabbitmq-consume',
    `RabbitMQ: consume and acknowledge with a no-op handler, prefetch ${prefetch}`,
    {
      '@noa/message-queue worker': managerDrain(mq, ours, data, prefetch),
      'amqplib consume + ack': {
        fill: async (n) => {
          for (let i = 0; i < n; i++) confirm.sendToQueue(theirs, body, { persistent: true });
          await confirm.waitForConfirms();
        },
        drain: async (n) => {
          const channel = await connection.createChannel();
          await channel.prefetch(prefetch);
          const seen = counter();
          const done = seen.until(n);
          const { consumerTag } = await channel.consume(theirs, (message) => {
            if (!message) return;
            // Parse like a real consumer would, then acknowledge.
            JSON.parse(message.content.toString('utf8'));
            channel.ack(message);
            seen.hit();
          });
          await done;
          await channel.cancel(consumerTag);
          await channel.close();
        },
      },
    },
    { count, rounds: quick ? 1 : 5 },
  );
  console.log(renderText(table));
  tables.push(table);

  await mq.close();
  await confirm.deleteQueue(theirs);
  await confirm.close();
  await connection.close();
  await deleteRabbitQueues(url, [ours]);
  return tables;
}
