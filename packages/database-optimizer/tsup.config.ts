import { noaTsupConfig } from '../../configs/tsup.ts';

export default noaTsupConfig(
  {
    index: 'src/index.ts',
    postgres: 'src/postgres.ts',
    mysql: 'src/mysql.ts',
    mongodb: 'src/mongodb.ts',
    pglite: 'src/pglite.ts',
  },
  // The parsers are loaded with createRequire(import.meta.url): the CJS build needs the shim.
  { shims: true },
);
