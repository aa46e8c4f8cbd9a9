import { NoaError } from '@noa/core';

/**
 * Imports an optional peer on first use, so `@noa/cdn-manager` itself never loads esbuild, sharp and
 * friends; a missing one is reported with the install command.
 */
export async function loadOptional<T>(name: string, what: string): Promise<T> {
  try {
    const mod = (await import(name)) as T & { default?: T };
    return mod;
  } catch (error) {
    throw new NoaError(
      'NOA_ASSETS_MISSING_DEPENDENCY',
      `optimizing ${what} needs the optional dependency "${name}": npm install ${name}`,
      { cause: error },
    );
  }
}
