import { noaTsupConfig } from '../../configs/tsup.ts';

export default noaTsupConfig({
  index: 'src/index.ts',
  redis: 'src/redis.ts',
  express: 'src/express.ts',
  fastify: 'src/fastify.ts',
});
