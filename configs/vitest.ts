import { defineConfig, type ViteUserConfig } from 'vitest/config';

// No 'module' condition: with it Node would load packages' bundler-only builds (e.g. the AWS SDK's
// dist-es, whose imports have no file extensions).
const conditions = ['@noa/source', 'node', 'import', 'default'];

/**
 * Shared vitest configuration: workspace packages resolve to their TypeScript sources through the
 * `@noa/source` export condition, so tests never need a build first. Under CI a JSON report is
 * written so the test script can print one closing line for the whole monorepo.
 */
export function noaVitestConfig(overrides: ViteUserConfig['test'] = {}) {
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@noa/source'] } },
    test: {
      include: ['test/**/*.test.ts'],
      testTimeout: 30_000,
      hookTimeout: 60_000,
      pool: 'forks',
      reporters: process.env.NOA_VITEST_JSON
        ? ['default', ['json', { outputFile: '.vitest-results/results.json' }]]
        : ['default'],
      ...overrides,
    },
  });
}
