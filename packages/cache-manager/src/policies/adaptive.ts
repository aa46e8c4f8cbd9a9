import { FrequencySketch } from '../internal/frequency-sketch.js';
import { hashKey } from '../internal/hash.js';
import { HillClimber } from '../internal/hill-climber.js';
import { type CacheNode, NodeList } from '../internal/list.js';
import type { EvictionPolicy } from './policy.js';

const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;
// Caffeine's constants: a candidate this warm is admitted against a hotter victim 1 time in 128
// (a flood of hash collisions cannot pin the victim), and at most 1 000 entries move per adjustment.
const ADMIT_HASHDOS_THRESHOLD = 6;
const TRANSFER_LIMIT = 1000;

/**
 * W-TinyLFU (Einziger, Friedman & Manes, 2017) with Caffeine's adaptive window. New entries land
 * in a small LRU window; when the window overflows, its oldest entry competes with the main area's
 * LRU victim and only the one the frequency sketch says is more popular stays. The main area is a
 * segmented LRU (probation → protected on a second hit, 80 % of main). The window starts at 1 %; a
 * hill climber compares the hit rate of successive sketch aging periods (10 × `maxEntries`
 * increments) and moves capacity between window and main in the direction that raised it, so
 * recency-heavy workloads get a big window and frequency-heavy ones a small one.
 * Parameters and structure follow Caffeine; see HillClimber for the one deliberate difference.
 */
export class AdaptivePolicy<V> implements EvictionPolicy<V> {
  readonly #sketch: FrequencySketch;
  readonly #window = new NodeList<V>();
  readonly #probation = new NodeList<V>();
  readonly #protected = new NodeList<V>();
  #windowMax: number;
  #protectedMax: number;
  readonly #climber: HillClimber;
  #random = 0x2545f491;

  constructor(private readonly maxEntries: number) {
    this.#sketch = new FrequencySketch(maxEntries);
    this.#windowMax = Math.min(maxEntries, Math.max(1, Math.round(maxEntries * 0.01)));
    this.#protectedMax = Math.floor((maxEntries - this.#windowMax) * 0.8);
    this.#climber = new HillClimber(maxEntries);
  }

  /** Current window capacity (for tests and the benchmark's notes). */
  get windowMax(): number {
    return this.#windowMax;
  }

  add(node: CacheNode<V>): CacheNode<V> | undefined {
    node.hash = hashKey(node.key);
    if (this.#sketch.increment(node.hash)) this.#climb();
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
    this.#climber.recordHit();
  }

  miss(): void {
    this.#climber.recordMiss();
  }

  update(node: CacheNode<V>): void {
    this.#touch(node);
  }

  #touch(node: CacheNode<V>): void {
    if (this.#sketch.increment(node.hash)) this.#climb();
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

  #climb(): void {
    const delta = this.#climber.adjust();
    if (delta > 0) this.#growWindow(delta);
    else if (delta < 0) this.#shrinkWindow(-delta);
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
