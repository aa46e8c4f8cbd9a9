import { isReachable, uniqueName } from '@noa/testkit';
import { describe } from 'vitest';
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
});
