import { type CacheNode, NodeList } from '../internal/list.js';
import type { EvictionPolicy } from './policy.js';

// Hierarchical timer wheel (Varghese & Lauck; Caffeine's variable expiration). Level i has
// COUNTS[i] buckets of 2^SHIFTS[i] ms: 64 ms buckets cover the next 4 s, 4 s buckets the next
// 4 min, 4 min buckets the next 4.6 h, 4.6 h buckets the next 12 days; the last level catches the rest.
const SHIFTS = [6, 12, 18, 24, 30];
const COUNTS = [64, 64, 64, 64, 1];
const WIDTHS = SHIFTS.map((s) => 2 ** s);

/**
 * Expiry-ordered eviction: the victim is the entry that expires soonest (to 64 ms resolution near
 * now, coarser further out), then entries without a TTL in insertion order. Scheduling is O(1);
 * finding the victim scans a bounded number of buckets, so it is O(1) too.
 */
export class TtlPolicy<V> implements EvictionPolicy<V> {
  readonly #wheel = COUNTS.map((count) => Array.from({ length: count }, () => new NodeList<V>()));
  readonly #levelSizes = COUNTS.map(() => 0);
  /** Nodes found already expired while cascading: the first victims. */
  readonly #expired = new NodeList<V>();
  readonly #eternal = new NodeList<V>();
  #time: number;
  #size = 0;

  constructor(
    private readonly maxEntries: number,
    now: number,
  ) {
    this.#time = now;
  }

  add(node: CacheNode<V>, now: number): CacheNode<V> | undefined {
    this.#advance(now);
    this.#schedule(node);
    this.#size++;
    if (this.#size <= this.maxEntries) return undefined;
    const victim = this.#victim();
    this.remove(victim);
    return victim;
  }

  hit(): void {}

  miss(): void {}

  update(node: CacheNode<V>, now: number): void {
    this.#advance(now);
    this.#unlink(node);
    this.#schedule(node);
  }

  remove(node: CacheNode<V>): void {
    this.#unlink(node);
    this.#size--;
  }

  clear(): void {
    for (const level of this.#wheel) for (const bucket of level) bucket.clear();
    this.#levelSizes.fill(0);
    this.#expired.clear();
    this.#eternal.clear();
    this.#size = 0;
  }

  #bucketOf(expiresAt: number): { list: NodeList<V>; level: number } {
    const delta = expiresAt - this.#time;
    let level = 0;
    while (level < SHIFTS.length - 1 && delta >= WIDTHS[level + 1]!) level++;
    const index = Math.floor(expiresAt / WIDTHS[level]!) % COUNTS[level]!;
    return { list: this.#wheel[level]![index]!, level };
  }

  #schedule(node: CacheNode<V>): void {
    if (node.expiresAt === 0) {
      this.#eternal.push(node);
      return;
    }
    if (node.expiresAt <= this.#time) {
      this.#expired.push(node);
      return;
    }
    const { list, level } = this.#bucketOf(node.expiresAt);
    node.segment = level;
    this.#levelSizes[level]!++;
    list.push(node);
  }

  #unlink(node: CacheNode<V>): void {
    const list = node.list!;
    if (list !== this.#eternal && list !== this.#expired) this.#levelSizes[node.segment]!--;
    list.remove(node);
  }

  /** Moves time forward: buckets that time has passed are emptied and their nodes rescheduled lower. */
  #advance(now: number): void {
    const previous = this.#time;
    if (now <= previous) return;
    this.#time = now;
    for (let level = 0; level < SHIFTS.length; level++) {
      const width = WIDTHS[level]!;
      const from = Math.floor(previous / width);
      const to = Math.floor(now / width);
      if (to === from) break;
      const count = COUNTS[level]!;
      const steps = Math.min(to - from, count - 1);
      for (let tick = from; tick <= from + steps; tick++) {
        const bucket = this.#wheel[level]![tick % count]!;
        let node = bucket.head;
        bucket.clear();
        this.#levelSizes[level]! -= countFrom(node);
        while (node) {
          const next = node.next;
          node.prev = node.next = null;
          this.#schedule(node);
          node = next;
        }
      }
    }
  }

  #victim(): CacheNode<V> {
    if (this.#expired.head) return this.#expired.head;
    for (let level = 0; level < SHIFTS.length; level++) {
      if (this.#levelSizes[level] === 0) continue;
      const count = COUNTS[level]!;
      const start = Math.floor(this.#time / WIDTHS[level]!);
      for (let i = 0; i < count; i++) {
        const head = this.#wheel[level]![(start + i) % count]!.head;
        if (head) return head;
      }
    }
    return this.#eternal.head!;
  }
}

function countFrom(node: CacheNode<unknown> | null): number {
  let n = 0;
  for (; node; node = node.next) n++;
  return n;
}
