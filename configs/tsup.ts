import { defineConfig, type Options } from 'tsup';

/**
 * The one tsup configuration every publishable package uses: ESM + CJS + declarations for each
 * entry (one entry per `exports` subpath). Dependencies and peer dependencies stay external.
 */
export function noaTsupConfig(entry: Record<string, string>, overrides: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    splitting: true,
    treeshake: true,
    target: 'node20',
    platform: 'node',
    ...overrides,
  });
}
