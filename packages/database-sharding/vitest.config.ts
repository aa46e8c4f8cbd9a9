import { noaVitestConfig } from '../../configs/vitest.ts';

const config = noaVitestConfig();
// The shared config's conditions include `import`; vitest hands them to Node as --conditions, and
// Node then applies `import` to require() too, which breaks CJS packages with dual exports (pg's
// require('pg-pool') gets the ESM namespace). Node adds node/import/require/default by itself.
// (Same workaround as connection-pool and database-optimizer; to fix in configs/vitest.ts.)
const conditions = ['@noa/source', 'node', 'default'];
if (config.ssr?.resolve) config.ssr.resolve.conditions = conditions;

export default config;
