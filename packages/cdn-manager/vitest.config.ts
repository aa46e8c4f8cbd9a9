import { noaVitestConfig } from '../../configs/vitest.ts';

const config = noaVitestConfig();
// The shared 'module' condition makes Node load the AWS SDK's dist-es build, whose extension-less
// imports only a bundler resolves. Without it, 'node' picks the CJS build (reported to the lead).
const withoutModule = (conditions?: string[]) => conditions?.filter((c) => c !== 'module');
if (config.resolve) config.resolve.conditions = withoutModule(config.resolve.conditions);
if (config.ssr?.resolve) config.ssr.resolve.conditions = withoutModule(config.ssr.resolve.conditions);

export default config;
