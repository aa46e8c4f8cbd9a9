import { noaVitestConfig } from '../../configs/vitest.ts';

export default noaVitestConfig();
