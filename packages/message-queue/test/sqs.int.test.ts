import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { isReachable, uniqueName, waitUntil } from '@noa/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createQueueManager } from '../src/index.js';
import { sqsProvider } from '../src/providers/sqs.js';
import { queueContract } from './contract.js';
import { deleteSqsQueues } from './fixtures/cleanup.js';

export const sqsEndpoint = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:4566';
const reachable = await isReachable(sqsEndpoint);
if (!reachable && (process.env.CI === 'true' || process.env.CI === '1'))
  throw new Error(`SQS emulator unreachable at ${sqsEndpoint}; start it with scripts/services/50-fauxqs.sh`);

export const sqsClientConfig = {
  endpoint: sqsEndpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};

describe.skipIf(!reachable)('sqs provider (fauxqs emulator)', () => {
  queueContract('sqs', {
    create: () => sqsProvider({ clientConfig: sqsClientConfig, waitTimeSeconds: 1 }),
    queueName: (label) => uniqueName(label).replace(/_/g, '-'),
    schedules: false,
    cleanup: (queues) => deleteSqsQueues(sqsClientConfig, queues),
  });
  queueContract('sqs-fifo', {
    create: () => sqsProvider({ clientConfig: sqsClientConfig, waitTimeSeconds: 1 }),
    queueName: (label) => `${uniqueName(label).replace(/_/g, '-')}.fifo`,
    brokerCountsAttempts: true,
    cleanup: (queues) => deleteSqsQueues(sqsClientConfig, queues),
  });

  describe('SQS mapping', () => {
    const queues: string[] = [];
    const name = (label: string, fifo = false) => {
      const queue = `${uniqueName(label).replace(/_/g, '-')}${fifo ? '.fifo' : ''}`;
      queues.push(queue);
      return queue;
    };
    afterAll(() => deleteSqsQueues(sqsClientConfig, queues));

    it('creates the queue with a redrive policy to its dead-letter queue', async () => {
      const queue = name('redrive');
      await using mq = createQueueManager({
        provider: sqsProvider({ clientConfig: sqsClientConfig, maxReceiveCount: 4 }),
        closeOnSignals: false,
      });
      await mq.stats(queue); // creates both queues
      const sqs = new SQSClient(sqsClientConfig);
      try {
        const attributes = async (queueName: string, names: ('QueueArn' | 'RedrivePolicy')[]) => {
          const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
          return (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: names })))
            .Attributes!;
        };
        const deadArn = (await attributes(`${queue}-dead`, ['QueueArn'])).QueueArn;
        const policy = JSON.parse((await attributes(queue, ['RedrivePolicy'])).RedrivePolicy!);
        expect(policy.deadLetterTargetArn).toBe(deadArn);
        expect(Number(policy.maxReceiveCount)).toBe(4);
      } finally {
        sqs.destroy();
      }
    });

    it('FIFO: jobs of one group run in publish order, one at a time, groups in parallel', async () => {
      const queue = name('order', true);
      await using mq = createQueueManager({
        provider: sqsProvider({ clientConfig: sqsClientConfig, waitTimeSeconds: 1 }),
        closeOnSignals: false,
      });
      await mq.publishBatch(
        queue,
        Array.from({ length: 30 }, (_, i) => ({ data: { group: `g${i % 3}`, i }, groupId: `g${i % 3}` })),
      );
      const seen = new Map<string, number[]>();
      const running = new Set<string>();
      let overlapInGroup = false;
      let parallelGroups = 1;
      mq.process<{ group: string; i: number }>(
        queue,
        async (job) => {
          if (running.has(job.data.group)) overlapInGroup = true;
          running.add(job.data.group);
          parallelGroups = Math.max(parallelGroups, running.size);
          await new Promise((r) => setTimeout(r, 20));
          seen.set(job.data.group, [...(seen.get(job.data.group) ?? []), job.data.i]);
          running.delete(job.data.group);
        },
        { concurrency: 6 },
      );
      await waitUntil(() => [...seen.values()].flat().length === 30, { timeoutMs: 15_000 });
      for (const [group, list] of seen) {
        const offset = Number(group.slice(1));
        expect(list).toEqual(Array.from({ length: 10 }, (_, k) => offset + 3 * k));
      }
      expect(overlapInGroup).toBe(false);
      expect(parallelGroups).toBeGreaterThan(1);
    });
  });
});
