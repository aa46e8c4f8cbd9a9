/**
 * @noa/message-queue benchmarks, each side by side with the library a user would otherwise pick:
 * Redis vs BullMQ, RabbitMQ vs amqplib used directly, SQS (fauxqs emulator) vs sqs-consumer, and
 * end-to-end latency at a steady 1k jobs/s. Tables whose service is unreachable are skipped with
 * the reason. Run: pnpm --filter @noa/message-queue bench (NOA_BENCH_QUICK=1 for a short run)
 */
import { fileURLToPath } from 'node:url';
import { type BenchTable, isReachable, serviceUrl, uniqueName, writeBenchResults } from '@noa/testkit';
import { createQueueManager, memoryProvider, type QueueManager, type QueueProvider } from '../src/index.js';
import { rabbitmqProvider } from '../src/providers/rabbitmq.js';
import { redisProvider } from '../src/providers/redis.js';
import { sqsProvider } from '../src/providers/sqs.js';
import { deleteRabbitQueues, deleteRedisPrefix, deleteSqsQueues } from '../test/fixtures/cleanup.js';
import { type LatencySubject, latencyTable, managerSubject } from './latency.bench.js';
import { rabbitmqBench } from './rabbitmq.bench.js';
import { bullmqSubject, redisBench } from './redis.bench.js';
import { sqsBench } from './sqs.bench.js';

const quick = process.env.NOA_BENCH_QUICK === '1';
const only = process.env.NOA_BENCH_ONLY?.split(',');
const want = (name: string) => !only || only.includes(name);
const tables: BenchTable[] = [];

const redisUrl = serviceUrl('redis');
if (want('redis')) {
  if (await isReachable(redisUrl)) tables.push(...(await redisBench(redisUrl, quick)));
  else console.log(`skipping the Redis tables: Redis is unreachable at ${redisUrl}`);
}

const amqpUrl = serviceUrl('rabbitmq');
if (want('rabbitmq')) {
  if (await isReachable(amqpUrl)) tables.push(...(await rabbitmqBench(amqpUrl, quick)));
  else console.log(`skipping the RabbitMQ tables: RabbitMQ is unreachable at ${amqpUrl}`);
}

const sqsEndpoint = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:4566';
const sqsConfig = {
  endpoint: sqsEndpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};
if (want('sqs')) {
  if (await isReachable(sqsEndpoint)) tables.push(...(await sqsBench(sqsConfig, quick)));
  else
    console.log(`skipping the SQS tables: no SQS emulator at ${sqsEndpoint} (scripts/services/50-fauxqs.sh)`);
}

if (want('latency')) {
  const subjects: LatencySubject[] = [];
  const managers: QueueManager[] = [];
  const manager = (provider: QueueProvider) => {
    const mq = createQueueManager({ provider, closeOnSignals: false });
    managers.push(mq);
    return mq;
  };
  subjects.push(managerSubject('memory', manager(memoryProvider()), 'latency'));
  const prefix = uniqueName('mqlat');
  if (await isReachable(redisUrl)) {
    subjects.push(
      managerSubject('redis', manager(redisProvider({ connection: redisUrl, prefix })), 'latency'),
    );
    subjects.push(bullmqSubject(redisUrl, `${prefix}_bull`));
  }
  const rabbitQueue = uniqueName('mqlat');
  if (await isReachable(amqpUrl))
    subjects.push(
      managerSubject('rabbitmq', manager(rabbitmqProvider({ connection: amqpUrl })), rabbitQueue),
    );
  const sqsQueue = uniqueName('mqlat').replace(/_/g, '-');
  if (await isReachable(sqsEndpoint))
    subjects.push(
      managerSubject(
        'sqs (fauxqs)',
        manager(sqsProvider({ clientConfig: sqsConfig, waitTimeSeconds: 20 })),
        sqsQueue,
      ),
    );
  tables.push(await latencyTable(subjects, { rate: 1_000, durationMs: quick ? 1_000 : 3_000 }));
  await Promise.all(managers.map((mq) => mq.close()));
  if (await isReachable(redisUrl)) await deleteRedisPrefix(redisUrl, prefix);
  if (await isReachable(amqpUrl)) await deleteRabbitQueues(amqpUrl, [rabbitQueue]);
  if (await isReachable(sqsEndpoint)) await deleteSqsQueues(sqsConfig, [sqsQueue]);
}

if (only)
  console.log('\nNOA_BENCH_ONLY is set: results not written (a partial run would replace the full file)');
else {
  const file = writeBenchResults(fileURLToPath(new URL('..', import.meta.url)), 'message-queue', tables);
  console.log(`\nwrote ${file}`);
}
