/**
 * A reference for the hit-rate table: textbook W-TinyLFU as Caffeine 3 implements it (eviction and
 * climbing of BoundedLocalCache, the blocked FrequencySketch, Java's String.hashCode), ported
 * line by line for unit weights and one thread. Only the simulator uses it: it shows what
 * Caffeine's algorithm and parameters achieve on the same traces as `adaptive`.
 */
const PERCENT_MAIN = 0.99;
const PERCENT_MAIN_PROTECTED = 0.8;
const STEP_PERCENT = 0.0625;
const STEP_DECAY_RATE = 0.98;
const RESTART_THRESHOLD = 0.05;
const QUEUE_TRANSFER_THRESHOLD = 1_000;
const ADMIT_HASHDOS_THRESHOLD = 6;

const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;

class Node {
  prev: Node | null = null;
  next: Node | null = null;
  queue = WINDOW;
  constructor(
    readonly key: string,
    readonly hash: number,
  ) {}
}

class Deque {
  head: Node | null = null;
  tail: Node | null = null;
  size = 0;
  add(node: Node): void {
    node.next = null;
    node.prev = this.tail;
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.size++;
  }
  remove(node: Node): void {
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = node.next = null;
    this.size--;
  }
}

const javaHashCode = (text: string) => {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return h;
};

/** Caffeine's FrequencySketch: 16 four-bit counters per 64-bit word, four counters per key in one 64-byte block. */
class CaffeineSketch {
  readonly counters: Uint8Array;
  readonly sampleSize: number;
  readonly blockMask: number;
  size = 0;
  constructor(maximum: number) {
    let words = 8;
    while (words < maximum) words *= 2;
    this.counters = new Uint8Array(words * 16);
    this.sampleSize = 10 * maximum;
    this.blockMask = (words >>> 3) - 1;
  }
  #index(hashCode: number, i: number): number {
    let blockHash = hashCode;
    blockHash ^= blockHash >>> 17;
    blockHash = Math.imul(blockHash, 0xed5ad4bb);
    blockHash ^= blockHash >>> 11;
    blockHash = Math.imul(blockHash, 0xac4c1b51);
    blockHash ^= blockHash >>> 15;
    let counterHash = Math.imul(blockHash, 0x31848bab);
    counterHash ^= counterHash >>> 14;
    const block = (blockHash & this.blockMask) << 3;
    const h = counterHash >>> (i << 3);
    return (block + (h & 1) + (i << 1)) * 16 + ((h >>> 1) & 15);
  }
  frequency(hashCode: number): number {
    let min = 15;
    for (let i = 0; i < 4; i++) min = Math.min(min, this.counters[this.#index(hashCode, i)]!);
    return min;
  }
  increment(hashCode: number): void {
    let added = false;
    for (let i = 0; i < 4; i++) {
      const at = this.#index(hashCode, i);
      if (this.counters[at]! < 15) {
        this.counters[at]!++;
        added = true;
      }
    }
    if (added && ++this.size === this.sampleSize) {
      let odd = 0;
      for (let i = 0; i < this.counters.length; i++) {
        odd += this.counters[i]! & 1;
        this.counters[i] = this.counters[i]! >>> 1;
      }
      this.size = (this.size - (odd >>> 2)) >>> 1;
    }
  }
}

export class CaffeineWTinyLfu {
  readonly #map = new Map<string, Node>();
  readonly #queues = [new Deque(), new Deque(), new Deque()] as const;
  readonly #sketch: CaffeineSketch;
  readonly #maximum: number;
  #windowMaximum: number;
  #protectedMaximum: number;
  #stepSize: number;
  #adjustment = 0;
  #hitsInSample = 0;
  #missesInSample = 0;
  #previousSampleHitRate = 0;
  #random = 0x9e3779b9;

  constructor(maximum: number) {
    this.#maximum = maximum;
    this.#windowMaximum = maximum - Math.trunc(PERCENT_MAIN * maximum);
    this.#protectedMaximum = Math.trunc(PERCENT_MAIN_PROTECTED * (maximum - this.#windowMaximum));
    this.#stepSize = -STEP_PERCENT * maximum;
    this.#sketch = new CaffeineSketch(maximum);
  }

  get windowMaximum(): number {
    return this.#windowMaximum;
  }

  get(key: string): number | undefined {
    const node = this.#map.get(key);
    if (!node) return undefined;
    this.#sketch.increment(node.hash);
    const [window, probation, protectedQueue] = this.#queues;
    if (node.queue === WINDOW) this.#reorder(window, node);
    else if (node.queue === PROBATION) {
      probation.remove(node);
      node.queue = PROTECTED;
      protectedQueue.add(node);
    } else this.#reorder(protectedQueue, node);
    this.#hitsInSample++;
    this.#maintenance();
    return 1;
  }

  set(key: string): void {
    const node = new Node(key, javaHashCode(key));
    this.#map.set(key, node);
    this.#queues[WINDOW].add(node);
    this.#sketch.increment(node.hash);
    this.#missesInSample++;
    this.#maintenance();
  }

  #reorder(deque: Deque, node: Node): void {
    deque.remove(node);
    deque.add(node);
  }

  #maintenance(): void {
    this.#evictEntries();
    this.#climb();
  }

  #move(node: Node, to: number): void {
    this.#queues[node.queue]!.remove(node);
    node.queue = to;
    this.#queues[to]!.add(node);
  }

  #evict(node: Node): void {
    this.#map.delete(node.key);
    this.#queues[node.queue]!.remove(node);
  }

  #demoteFromMainProtected(): void {
    while (this.#queues[PROTECTED].size > this.#protectedMaximum)
      this.#move(this.#queues[PROTECTED].head!, PROBATION);
  }

  #evictEntries(): void {
    let candidate: Node | null = null;
    while (this.#queues[WINDOW].size > this.#windowMaximum) {
      const node = this.#queues[WINDOW].head!;
      this.#move(node, PROBATION);
      candidate ??= node;
    }
    let victim = this.#queues[PROBATION].head;
    while (this.#map.size > this.#maximum) {
      victim ??= this.#queues[PROTECTED].head ?? this.#queues[WINDOW].head;
      if (!candidate || candidate === victim) {
        const evicted = victim!;
        victim = evicted.next;
        if (evicted === candidate) candidate = null;
        this.#evict(evicted);
      } else if (!victim) {
        const evicted = candidate;
        candidate = candidate.next;
        this.#evict(evicted);
      } else if (this.#admit(candidate.hash, victim.hash)) {
        const evicted = victim;
        victim = victim.next;
        this.#evict(evicted);
        candidate = candidate.next;
      } else {
        const evicted = candidate;
        candidate = candidate.next;
        this.#evict(evicted);
      }
    }
  }

  #admit(candidateHash: number, victimHash: number): boolean {
    const victimFrequency = this.#sketch.frequency(victimHash);
    const candidateFrequency = this.#sketch.frequency(candidateHash);
    if (candidateFrequency > victimFrequency) return true;
    if (candidateFrequency < ADMIT_HASHDOS_THRESHOLD) return false;
    this.#random ^= this.#random << 13;
    this.#random ^= this.#random >>> 17;
    this.#random ^= this.#random << 5;
    return (this.#random & 127) === 0;
  }

  #climb(): void {
    this.#determineAdjustment();
    this.#demoteFromMainProtected();
    if (this.#adjustment > 0) this.#increaseWindow();
    else if (this.#adjustment < 0) this.#decreaseWindow();
  }

  #determineAdjustment(): void {
    const requests = this.#hitsInSample + this.#missesInSample;
    if (requests < this.#sketch.sampleSize) return;
    const hitRate = this.#hitsInSample / requests;
    const change = hitRate - this.#previousSampleHitRate;
    const amount = change >= 0 ? this.#stepSize : -this.#stepSize;
    this.#stepSize =
      Math.abs(change) >= RESTART_THRESHOLD
        ? STEP_PERCENT * this.#maximum * (amount >= 0 ? 1 : -1)
        : STEP_DECAY_RATE * amount;
    this.#previousSampleHitRate = hitRate;
    this.#adjustment = Math.trunc(amount);
    this.#hitsInSample = this.#missesInSample = 0;
  }

  #increaseWindow(): void {
    if (this.#protectedMaximum === 0) return;
    let quota = Math.min(this.#adjustment, this.#protectedMaximum);
    this.#protectedMaximum -= quota;
    this.#windowMaximum += quota;
    this.#demoteFromMainProtected();
    for (let i = 0; i < QUEUE_TRANSFER_THRESHOLD && quota > 0; i++) {
      const node = this.#queues[PROBATION].head ?? this.#queues[PROTECTED].head;
      if (!node) break;
      quota--;
      this.#move(node, WINDOW);
    }
    this.#protectedMaximum += quota;
    this.#windowMaximum -= quota;
    this.#adjustment = quota;
  }

  #decreaseWindow(): void {
    if (this.#windowMaximum <= 1) return;
    let quota = Math.min(-this.#adjustment, Math.max(0, this.#windowMaximum - 1));
    this.#protectedMaximum += quota;
    this.#windowMaximum -= quota;
    for (let i = 0; i < QUEUE_TRANSFER_THRESHOLD && quota > 0; i++) {
      const node = this.#queues[WINDOW].head;
      if (!node) break;
      quota--;
      this.#move(node, PROBATION);
    }
    this.#protectedMaximum -= quota;
    this.#windowMaximum += quota;
    this.#adjustment = -quota;
  }
}
