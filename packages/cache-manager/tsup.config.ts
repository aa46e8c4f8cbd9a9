import { noaTsupConfig } from '../../configs/tsup.ts';

export default noaTsupConfig({
  index: 'src/index.ts',
  redis: 'src/redis.ts',
  cdn: 'src/cdn.ts',
});
