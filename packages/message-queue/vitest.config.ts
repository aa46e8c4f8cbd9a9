import { noaVitestConfig } from '../../configs/vitest.ts';

const base = noaVitestConfig();
// The shared config resolves the 'module' condition, which picks @aws-sdk's bundler-only dist-es
// build (extensionless imports Node cannot load). Resolve like Node does instead.
const conditions = ['@noa/source', 'node', 'import', 'default'];

export default {
  ...base,
  resolve: { ...base.resolve, conditions },
  ssr: { ...base.ssr, resolve: { ...base.ssr?.resolve, conditions } },
};
