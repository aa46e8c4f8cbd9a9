import { FrequencySketch } from '../internal/frequency-sketch.js';
import { hashKey } from '../internal/hash.js';
import { type CacheNode, NodeList } from '../internal/list.js';
import type { EvictionPolicy } from './policy.js';

const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;
// Caffeine's constants: hash-flooding guard, hill-climber step (6.25 % of capacity), its decay,
// the hit-rate change that restarts the step, and the most entries moved per adjustment.
const ADMIT_HASHDOS_THRESHOLD = 6;
const STEP_PERCENT = 0.0625;
const STEP_DECAY = 0.98;
const RESTART_THRESHOLD = 0.05;
const TRANSFER_LIMIT = 1000;

/**
 * W-TinyLFU (Einziger, Friedman & Manes, 2017) with Caffeine's adaptive window. New entries land
 * in a small LRU window; when the window overflows, its oldest entry competes with the main area's
 * LRU victim and only the one the frequency sketch says is more popular stays. The main area is a
 * segmented LRU (probation → protected on a second hit). A hill climber samples the hit rate every
 * `10 × maxEntries` requests and moves capacity between window and main in the direction that
 * raised it, so recency-heavy workloads get a big window and frequency-heavy ones a small one.
 */
export class AdaptivePolicy<V> implements EvictionPolicy<V> {
  readonly #sketch: FrequencySketch;
  readonly #window = new NodeList<V>();
  readonly #probation = new NodeList<V>();
  readonly #protected = new NodeList<V>();
  #windowMax: number;
  #protectedMax: number;
  // Hill climber state.
  readonly #sampleSize: number;
  #hits = 0;
  #misses = 0;
  #previousHitRate = 0;
  #stepSize: number;
  #random = 0x2545f491;

  constructor(private readonly maxEntries: number) {
    this.#sketch = new FrequencySketch(maxEntries);
    this.#windowMax = Math.min(maxEntries, Math.max(1, Math.round(maxEntries * 0.01)));
    this.#protectedMax = Math.floor((maxEntries - this.#windowMax) * 0.8);
    this.#sampleSize = 10 * maxEntries;
    this.#stepSize = STEP_PERCENT * maxEntries;
  }

  /** Current window capacity (for tests and the benchmark's notes). */
  get windowMax(): number {
    return this.#windowMax;
  }

  add(node: CacheNode<V>): CacheNode<V> | undefined {
    node.hash = hashKey(node.key);
    this.#sketch.increment(node.hash);
    node.segment = WINDOW;
    this.#window.push(node);
    let candidate: CacheNode<V> | undefined;
    while (this.#window.size > this.#windowMax) {
      const moved = this.#window.shift()!;
      moved.segment = PROBATION;
      this.#probation.push(moved);
      candidate ??= moved;
    }
    if (this.#window.size + this.#probation.size + this.#protected.size <= this.maxEntries) return undefined;
    return this.#evict(candidate);
  }

  /** Picks the loser between the window's overflow and the main area's LRU victim, and unlinks it. */
  #evict(candidate: CacheNode<V> | undefined): CacheNode<V> {
    let victim = this.#probation.head ?? this.#protected.head ?? this.#window.head!;
    if (victim === candidate) victim = candidate.next ?? this.#protected.head ?? candidate;
    const loser =
      !candidate || candidate === victim || this.#admit(candidate.hash, victim.hash) ? victim : candidate;
    this.remove(loser);
    return loser;
  }

  #admit(candidateHash: number, victimHash: number): boolean {
    const candidateFrequency = this.#sketch.frequency(candidateHash);
    const victimFrequency = this.#sketch.frequency(victimHash);
    if (candidateFrequency > victimFrequency) return true;
    if (candidateFrequency < ADMIT_HASHDOS_THRESHOLD) return false;
    // A popular victim could be an attacker's hash collision: admit a warm candidate now and then.
    this.#random ^= this.#random << 13;
    this.#random ^= this.#random >>> 17;
    this.#random ^= this.#random << 5;
    return (this.#random & 127) === 0;
  }

  hit(node: CacheNode<V>): void {
    this.#touch(node);
    if (++this.#hits + this.#misses >= this.#sampleSize) this.#climb();
  }

  miss(): void {
    if (this.#hits + ++this.#misses >= this.#sampleSize) this.#climb();
  }

  update(node: CacheNode<V>): void {
    this.#touch(node);
  }

  #touch(node: CacheNode<V>): void {
    this.#sketch.increment(node.hash);
    if (node.segment === WINDOW) this.#window.moveToTail(node);
    else if (node.segment === PROTECTED) this.#protected.moveToTail(node);
    else {
      this.#probation.remove(node);
      node.segment = PROTECTED;
      this.#protected.push(node);
      this.#demoteProtectedOverflow();
    }
  }

  #demoteProtectedOverflow(): void {
    while (this.#protected.size > this.#protectedMax) {
      const demoted = this.#protected.shift()!;
      demoted.segment = PROBATION;
      this.#probation.push(demoted);
    }
  }

  remove(node: CacheNode<V>): void {
    const list =
      node.segment === WINDOW ? this.#window : node.segment === PROBATION ? this.#probation : this.#protected;
    list.remove(node);
  }

  clear(): void {
    this.#window.clear();
    this.#probation.clear();
    this.#protected.clear();
    this.#sketch.clear();
  }

  /** Caffeine's simple hill climber: keep stepping while the hit rate improves, reverse when it drops. */
  #climb(): void {
    const requests = this.#hits + this.#misses;
    const hitRate = this.#hits / requests;
    const change = hitRate - this.#previousHitRate;
    const amount = change >= 0 ? this.#stepSize : -this.#stepSize;
    this.#stepSize =
      Math.abs(change) >= RESTART_THRESHOLD
        ? STEP_PERCENT * this.maxEntries * (amount >= 0 ? 1 : -1)
        : STEP_DECAY * amount;
    this.#previousHitRate = hitRate;
    this.#hits = this.#misses = 0;
    const adjustment = Math.trunc(amount);
    if (adjustment > 0) this.#growWindow(adjustment);
    else if (adjustment < 0) this.#shrinkWindow(-adjustment);
  }

  #growWindow(amount: number): void {
    const quota = Math.min(amount, this.#protectedMax, this.maxEntries - 1 - this.#windowMax);
    if (quota <= 0) return;
    this.#windowMax += quota;
    this.#protectedMax -= quota;
    this.#demoteProtectedOverflow();
    // Fill the larger window with the main area's least recent entries.
    for (let moved = 0; moved < Math.min(quota, TRANSFER_LIMIT); moved++) {
      const node = this.#probation.head ?? this.#protected.head;
      if (!node || this.#window.size >= this.#windowMax) break;
      this.remove(node);
      node.segment = WINDOW;
      this.#window.push(node);
    }
  }

  #shrinkWindow(amount: number): void {
    const quota = Math.min(amount, this.#windowMax - 1);
    if (quota <= 0) return;
    this.#windowMax -= quota;
    this.#protectedMax += quota;
    for (let moved = 0; moved < TRANSFER_LIMIT && this.#window.size > this.#windowMax; moved++) {
      const node = this.#window.shift()!;
      node.segment = PROBATION;
      this.#probation.push(node);
    }
  }
}
