import { type CacheNode, NodeList } from '../internal/list.js';
import type { EvictionPolicy } from './policy.js';

/**
 * Least recently used, or first in first out when `reorderOnHit` is false: one list; reads (and
 * for LRU, updates) move a node to the tail, the head is the victim.
 */
export class LruPolicy<V> implements EvictionPolicy<V> {
  readonly #list = new NodeList<V>();

  constructor(
    private readonly maxEntries: number,
    private readonly reorderOnHit: boolean,
  ) {}

  add(node: CacheNode<V>): CacheNode<V> | undefined {
    this.#list.push(node);
    return this.#list.size > this.maxEntries ? this.#list.shift() : undefined;
  }

  hit(node: CacheNode<V>): void {
    if (this.reorderOnHit) this.#list.moveToTail(node);
  }

  miss(): void {}

  update(node: CacheNode<V>): void {
    if (this.reorderOnHit) this.#list.moveToTail(node);
  }

  remove(node: CacheNode<V>): void {
    this.#list.remove(node);
  }

  clear(): void {
    this.#list.clear();
  }
}
