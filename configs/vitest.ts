import { defineConfig, type ViteUserConfig } from 'vitest/config';

// Vitest hands ssr.resolve.conditions to Node as --conditions, and Node applies them to require()
// too: with `import` there, CJS packages with dual exports get ESM namespaces (pg's pg-pool,
// Express 5's is-promise); with `module`, bundler-only builds (the AWS SDK's dist-es). Node and Vite
// add node/import/require/default per import kind by themselves.
const conditions = ['@noa/source', 'node', 'default'];

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
