import { noaTsupConfig } from '../../configs/tsup.ts';

export default noaTsupConfig({
  index: 'src/index.ts',
  redis: 'src/providers/redis.ts',
  rabbitmq: 'src/providers/rabbitmq.ts',
  sqs: 'src/providers/sqs.ts',
  kafka: 'src/providers/kafka.ts',
});
