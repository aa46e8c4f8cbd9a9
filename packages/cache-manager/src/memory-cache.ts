import { invariant } from '@noa/core';
import { CacheNode } from './internal/list.js';
import { assertKey, assertTtl, expiryOf } from './internal/validate.js';
import { AdaptivePolicy } from './policies/adaptive.js';
import { LfuPolicy } from './policies/lfu.js';
import { LruPolicy } from './policies/lru.js';
import type { EvictionPolicy, EvictionPolicyName } from './policies/policy.js';
import { TtlPolicy } from './policies/ttl.js';

export type EvictionReason = 'capacity' | 'expired';

export interface MemoryCacheOptions<V = unknown> {
  /** Most entries kept; the policy picks what goes when a new one arrives. Required, >= 1. */
  maxEntries: number;
  /** Eviction policy. Default `'adaptive'` (W-TinyLFU with hill climbing). */
  policy?: EvictionPolicyName;
  /** TTL for `set` calls without one. Default: entries never expire. */
  ttlMs?: number;
  /** Called when an entry leaves because of capacity or expiry (not on delete/clear). */
  onEvict?: (key: string, value: V, reason: EvictionReason) => void;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

const POLICIES: readonly EvictionPolicyName[] = ['lru', 'lfu', 'fifo', 'ttl', 'adaptive'];

function createPolicy<V>(name: EvictionPolicyName, maxEntries: number, now: number): EvictionPolicy<V> {
  switch (name) {
    case 'lru':
      return new LruPolicy<V>(maxEntries, true);
    case 'fifo':
      return new LruPolicy<V>(maxEntries, false);
    case 'lfu':
      return new LfuPolicy<V>(maxEntries);
    case 'ttl':
      return new TtlPolicy<V>(maxEntries, now);
    case 'adaptive':
      return new AdaptivePolicy<V>(maxEntries);
  }
}

/**
 * A bounded, synchronous in-process cache with a choice of eviction policy. Values are kept by
 * reference. Expired entries are dropped lazily when read (or chosen first by the `ttl` policy).
 */
export class MemoryCache<V = unknown> {
  readonly #map = new Map<string, CacheNode<V>>();
  readonly #policy: EvictionPolicy<V>;
  readonly #defaultExpiry: number;
  readonly #onEvict: ((key: string, value: V, reason: EvictionReason) => void) | undefined;
  readonly #now: () => number;
  readonly #policyUsesClock: boolean;
  #spare: CacheNode<V> | undefined;
  readonly maxEntries: number;
  readonly policy: EvictionPolicyName;

  constructor(options: MemoryCacheOptions<V>) {
    const { maxEntries, policy = 'adaptive', ttlMs, onEvict, now = Date.now } = options ?? ({} as never);
    invariant(
      Number.isInteger(maxEntries) && maxEntries >= 1,
      `MemoryCache: maxEntries must be an integer >= 1, got ${String(maxEntries)}`,
    );
    invariant(
      POLICIES.includes(policy),
      `MemoryCache: policy must be one of ${POLICIES.join(', ')}, got ${String(policy)}`,
    );
    if (ttlMs !== undefined) assertTtl(ttlMs);
    this.maxEntries = maxEntries;
    this.policy = policy;
    this.#defaultExpiry = ttlMs ?? Number.POSITIVE_INFINITY;
    this.#onEvict = onEvict;
    this.#now = now;
    this.#policy = createPolicy<V>(policy, maxEntries, now());
    this.#policyUsesClock = policy === 'ttl';
  }

  get size(): number {
    return this.#map.size;
  }

  /** The value, or undefined when absent or expired. Counts as a use for the eviction policy. */
  get(key: string): V | undefined {
    const node = this.#map.get(key);
    if (node === undefined) {
      if (typeof key !== 'string') assertKey(key);
      this.#policy.miss(key);
      return undefined;
    }
    if (node.expiresAt !== 0 && node.expiresAt <= this.#now()) {
      this.#expire(node);
      this.#policy.miss(key);
      return undefined;
    }
    this.#policy.hit(node);
    return node.value;
  }

  /** Like get, without counting as a use. */
  peek(key: string): V | undefined {
    const node = this.#map.get(key);
    if (node === undefined) {
      if (typeof key !== 'string') assertKey(key);
      return undefined;
    }
    if (node.expiresAt !== 0 && node.expiresAt <= this.#now()) return undefined;
    return node.value;
  }

  has(key: string): boolean {
    const node = this.#map.get(key);
    if (node === undefined) {
      if (typeof key !== 'string') assertKey(key);
      return false;
    }
    return node.expiresAt === 0 || node.expiresAt > this.#now();
  }

  /** Stores `value` for `ttlMs` (default: the cache's `ttlMs`, else forever). May evict another entry. */
  set(key: string, value: V, ttlMs?: number): this {
    assertKey(key);
    let expiry = this.#defaultExpiry;
    if (ttlMs !== undefined) {
      assertTtl(ttlMs);
      expiry = ttlMs;
    }
    // The clock is only read when something can expire: Date.now() is a visible cost on this path.
    const now = expiry !== Number.POSITIVE_INFINITY || this.#policyUsesClock ? this.#now() : 0;
    const expiresAt = expiryOf(expiry, now);
    const node = this.#map.get(key);
    if (node !== undefined) {
      node.value = value;
      node.expiresAt = expiresAt;
      this.#policy.update(node, now);
      return this;
    }
    let added = this.#spare;
    if (added === undefined) added = new CacheNode(key, value, expiresAt);
    else {
      this.#spare = undefined;
      added.key = key;
      added.value = value;
      added.expiresAt = expiresAt;
    }
    this.#map.set(key, added);
    const victim = this.#policy.add(added, now);
    if (victim !== undefined) {
      this.#map.delete(victim.key);
      if (this.#onEvict !== undefined) {
        const expired = victim.expiresAt !== 0 && victim.expiresAt <= this.#now();
        this.#onEvict(victim.key, victim.value, expired ? 'expired' : 'capacity');
      }
      // A full cache evicts on every insert: reusing the victim's node spares the allocation and GC.
      victim.value = undefined as V;
      this.#spare = victim;
    }
    return this;
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: string): boolean {
    const node = this.#map.get(key);
    if (node === undefined) {
      if (typeof key !== 'string') assertKey(key);
      return false;
    }
    this.#map.delete(key);
    this.#policy.remove(node);
    return true;
  }

  clear(): void {
    this.#map.clear();
    this.#policy.clear();
  }

  /** Live keys, in insertion order. */
  *keys(): IterableIterator<string> {
    const now = this.#now();
    for (const [key, node] of this.#map) if (node.expiresAt === 0 || node.expiresAt > now) yield key;
  }

  /** Milliseconds until `key` expires: Infinity when it never does, undefined when absent. */
  remainingTtl(key: string): number | undefined {
    const node = this.#map.get(key);
    if (node === undefined) return undefined;
    if (node.expiresAt === 0) return Number.POSITIVE_INFINITY;
    const remaining = node.expiresAt - this.#now();
    return remaining > 0 ? remaining : undefined;
  }

  #expire(node: CacheNode<V>): void {
    this.#map.delete(node.key);
    this.#policy.remove(node);
    this.#onEvict?.(node.key, node.value, 'expired');
  }
}
