import { requireService } from '@noa/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { describe } from 'vitest';
import { kafkaProvider } from '../src/providers/kafka.js';
import { queueContract } from './contract.js';

// No Kafka broker runs on this machine: these run when KAFKA_BROKERS is set, and are skipped otherwise.
const kafka = await requireService('kafka');

describe.skipIf(!kafka.available)('kafka provider (live broker from KAFKA_BROKERS)', () => {
  queueContract('kafka', {
    create: () =>
      kafkaProvider({
        kafka: new Kafka({
          brokers: kafka.url.split(','),
          clientId: 'noa-mq-test',
          logLevel: logLevel.NOTHING,
        }),
      }),
    queueName: (label) => `noa-mq-${label}-${process.pid}-${Date.now()}`,
    schedules: false,
    timeoutMs: 60_000,
  });
});
