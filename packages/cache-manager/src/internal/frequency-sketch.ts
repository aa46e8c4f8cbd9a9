const MAX_COUNT = 15;

/**
 * TinyLFU's popularity estimate, laid out as Caffeine's FrequencySketch: a count-min sketch of 16
 * counters per expected entry (saturating at 15, as 4-bit counters do), depth 4. A key's four
 * counters sit in one 64-counter block, one per 16-counter quarter, so a lookup touches a single
 * cache line. Every increment raises all four counters (as Caffeine does; conservative update
 * measured worse at low skew). Aging: after 10 × `expectedEntries` increments every counter is
 * halved, so old popularity fades.
 */
export class FrequencySketch {
  readonly #table: Uint8Array;
  /** The same bytes, four counters at a time, for aging. */
  readonly #words: Uint32Array;
  readonly #blockMask: number;
  readonly sampleSize: number;
  #additions = 0;

  constructor(expectedEntries: number) {
    let blocks = 1;
    while (blocks * 4 < expectedEntries) blocks *= 2;
    this.#table = new Uint8Array(blocks * 64);
    this.#words = new Uint32Array(this.#table.buffer);
    this.#blockMask = blocks - 1;
    this.sampleSize = 10 * Math.max(expectedEntries, 16);
  }

  frequency(hash: number): number {
    const table = this.#table;
    const block = (hash & this.#blockMask) << 6;
    const h = counterHash(hash);
    const a = table[block + (h & 15)]!;
    const b = table[block + 16 + ((h >>> 8) & 15)]!;
    const c = table[block + 32 + ((h >>> 16) & 15)]!;
    const d = table[block + 48 + ((h >>> 24) & 15)]!;
    return Math.min(a, b, c, d);
  }

  /** Returns true when this increment aged the sketch (a new sample period starts). */
  increment(hash: number): boolean {
    const block = (hash & this.#blockMask) << 6;
    const h = counterHash(hash);
    const i0 = block + (h & 15);
    const i1 = block + 16 + ((h >>> 8) & 15);
    const i2 = block + 32 + ((h >>> 16) & 15);
    const i3 = block + 48 + ((h >>> 24) & 15);
    // Bitwise or: all four counters grow (no short-circuit).
    const added = this.#bump(i0) | this.#bump(i1) | this.#bump(i2) | this.#bump(i3);
    if (added !== 0 && ++this.#additions >= this.sampleSize) {
      this.#age();
      return true;
    }
    return false;
  }

  /** Raises one counter unless it is saturated; 1 when it grew. */
  #bump(index: number): number {
    const table = this.#table;
    if (table[index]! >= MAX_COUNT) return 0;
    table[index]!++;
    return 1;
  }

  /** Halves every counter: amortised O(1) because it happens once per `sampleSize` increments. */
  #age(): void {
    const words = this.#words;
    let odd = 0;
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      odd += popcount(word & 0x01010101);
      words[i] = (word >>> 1) & 0x7f7f7f7f;
    }
    // As Caffeine: the halving's truncation removed odd/4 whole additions (four counters each).
    this.#additions = (this.#additions - (odd >>> 2)) >>> 1;
  }

  clear(): void {
    this.#table.fill(0);
    this.#additions = 0;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/**
 * Counter positions within the block: Caffeine's rehash of the key hash rotated by 16 bits, so they
 * come from other bits than the block index (the low bits).
 */
function counterHash(hash: number): number {
  const h = Math.imul((hash >>> 16) | (hash << 16), 0x31848bab);
  return h ^ (h >>> 14);
}
