import { type CacheNode, NodeList } from '../internal/list.js';
import type { EvictionPolicy } from './policy.js';

/** All nodes read the same number of times, least recent first; buckets form an ascending chain. */
class FrequencyBucket<V> extends NodeList<V> {
  prevBucket: FrequencyBucket<V> | null = null;
  nextBucket: FrequencyBucket<V> | null = null;
  constructor(readonly frequency: number) {
    super();
  }
}

/**
 * Least frequently used in O(1) (Shah, Mitra & Matani, 2010): nodes sit in per-frequency buckets
 * kept in ascending order, so a read moves a node one bucket up and the victim is the least recent
 * node of the lowest bucket. Frequencies count reads while the entry is cached.
 */
export class LfuPolicy<V> implements EvictionPolicy<V> {
  #lowest: FrequencyBucket<V> | null = null;
  #size = 0;

  constructor(private readonly maxEntries: number) {}

  add(node: CacheNode<V>): CacheNode<V> | undefined {
    let victim: CacheNode<V> | undefined;
    // Evict before inserting so the newcomer (frequency 1) cannot be its own victim.
    if (this.#size >= this.maxEntries) {
      victim = this.#lowest!.head!;
      this.remove(victim);
    }
    let first = this.#lowest;
    if (first?.frequency !== 1) {
      const bucket = new FrequencyBucket<V>(1);
      bucket.nextBucket = first;
      if (first) first.prevBucket = bucket;
      this.#lowest = first = bucket;
    }
    first.push(node);
    this.#size++;
    return victim;
  }

  hit(node: CacheNode<V>): void {
    const bucket = node.list as FrequencyBucket<V>;
    let next = bucket.nextBucket;
    if (!next || next.frequency !== bucket.frequency + 1) {
      next = new FrequencyBucket<V>(bucket.frequency + 1);
      next.prevBucket = bucket;
      next.nextBucket = bucket.nextBucket;
      if (bucket.nextBucket) bucket.nextBucket.prevBucket = next;
      bucket.nextBucket = next;
    }
    bucket.remove(node);
    next.push(node);
    if (bucket.size === 0) this.#unlink(bucket);
  }

  miss(): void {}

  update(node: CacheNode<V>): void {
    this.hit(node);
  }

  remove(node: CacheNode<V>): void {
    const bucket = node.list as FrequencyBucket<V>;
    bucket.remove(node);
    this.#size--;
    if (bucket.size === 0) this.#unlink(bucket);
  }

  clear(): void {
    this.#lowest = null;
    this.#size = 0;
  }

  #unlink(bucket: FrequencyBucket<V>): void {
    const { prevBucket, nextBucket } = bucket;
    if (prevBucket) prevBucket.nextBucket = nextBucket;
    else this.#lowest = nextBucket;
    if (nextBucket) nextBucket.prevBucket = prevBucket;
  }
}
