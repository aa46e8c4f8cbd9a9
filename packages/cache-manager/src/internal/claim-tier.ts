import { NoaError } from '@noa/core';

/** A tier holds one cache's data: sharing a tier object between two caches would mix namespaces. */
export function claimTier(existing: unknown, name: string): void {
  if (existing !== undefined) {
    throw new NoaError(
      'NOA_CACHE_TIER_IN_USE',
      `tier "${name}" already belongs to another cache; create one tier per createCache()`,
    );
  }
}
