import { noaTsupConfig } from '../../configs/tsup.ts';

export default noaTsupConfig({
  index: 'src/index.ts',
  consul: 'src/consul.ts',
  redis: 'src/redis.ts',
  grpc: 'src/grpc.ts',
  gateway: 'src/gateway.ts',
});
