import { invariant } from '@noa/core';
import type { SetOptions } from '../cache.js';
import { assertKey } from './validate.js';

export interface WarmOptions extends SetOptions {
  /** Loaders running at once. Default 8. */
  concurrency?: number;
  /** Reload keys that are already cached. Default false. */
  force?: boolean;
}

export interface WarmResult {
  loaded: number;
  skipped: number;
  failed: number;
  /** The first errors (at most 10), with their keys. */
  errors: Array<{ key: string; error: unknown }>;
}

/** Runs `warmOne` over `keys` with at most `concurrency` at once; one key's failure does not stop the rest. */
export async function warmKeys(
  keys: Iterable<string>,
  { concurrency = 8 }: WarmOptions,
  warmOne: (key: string) => Promise<'loaded' | 'skipped'>,
): Promise<WarmResult> {
  invariant(Number.isInteger(concurrency) && concurrency >= 1, 'warm: concurrency must be an integer >= 1');
  const result: WarmResult = { loaded: 0, skipped: 0, failed: 0, errors: [] };
  const iterator = keys[Symbol.iterator]();
  const worker = async () => {
    for (let next = iterator.next(); !next.done; next = iterator.next()) {
      const key = next.value;
      try {
        assertKey(key);
        result[await warmOne(key)]++;
      } catch (error) {
        result.failed++;
        if (result.errors.length < 10) result.errors.push({ key, error });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return result;
}
