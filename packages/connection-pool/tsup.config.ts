import { noaTsupConfig } from '../../configs/tsup.ts';

export default noaTsupConfig({
  index: 'src/index.ts',
  postgres: 'src/drivers/postgres.ts',
  mysql: 'src/drivers/mysql.ts',
  mongodb: 'src/drivers/mongodb.ts',
  redis: 'src/drivers/redis.ts',
  memory: 'src/drivers/memory.ts',
});
