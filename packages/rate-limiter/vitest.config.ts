import { noaVitestConfig } from '../../configs/vitest.ts';

const config = noaVitestConfig();
// Vitest hands ssr.resolve.conditions to Node as --conditions, and with `import` among them
// Node's require() picks ESM entries (Express 5's router then gets is-promise's namespace object
// instead of its function). Vite adds `import`/`require` per import kind anyway.
const ssrResolve = config.ssr?.resolve;
if (ssrResolve?.conditions) ssrResolve.conditions = ssrResolve.conditions.filter((c) => c !== 'import');

export default config;
