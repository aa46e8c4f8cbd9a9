import { noaTsupConfig } from '../../configs/tsup.ts';

export default noaTsupConfig({
  index: 'src/index.ts',
  postgres: 'src/postgres.ts',
  mysql: 'src/mysql.ts',
  mongodb: 'src/mongodb.ts',
  pglite: 'src/pglite.ts',
});
