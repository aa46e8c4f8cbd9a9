const ROWS = 4;
const MAX_COUNT = 15;

/**
 * A count-min sketch of 4-bit-style counters (saturating at 15, as in TinyLFU) estimating how often
 * each key was seen recently. Aging: after `sampleSize` increments every counter is halved, so old
 * popularity fades. Conservative update (only the smallest counters grow) keeps estimates tight.
 */
export class FrequencySketch {
  readonly #table: Uint8Array;
  readonly #mask: number;
  readonly #sampleSize: number;
  #additions = 0;

  constructor(expectedEntries: number) {
    let width = 64;
    while (width < expectedEntries * 4) width *= 2;
    this.#table = new Uint8Array(width * ROWS);
    this.#mask = width - 1;
    this.#sampleSize = 10 * Math.max(expectedEntries, 16);
  }

  frequency(hash: number): number {
    // Double hashing (Kirsch & Mitzenmacher): row i uses h1 + i·h2, one multiply for all four rows.
    const table = this.#table;
    const mask = this.#mask;
    const width = mask + 1;
    const h2 = second(hash);
    let min = table[hash & mask]!;
    for (let row = 1; row < ROWS; row++) {
      const count = table[row * width + ((hash + row * h2) & mask)]!;
      if (count < min) min = count;
    }
    return min;
  }

  increment(hash: number): void {
    const table = this.#table;
    const mask = this.#mask;
    const width = mask + 1;
    const h2 = second(hash);
    const i0 = hash & mask;
    const i1 = width + ((hash + h2) & mask);
    const i2 = 2 * width + ((hash + 2 * h2) & mask);
    const i3 = 3 * width + ((hash + 3 * h2) & mask);
    const min = Math.min(table[i0]!, table[i1]!, table[i2]!, table[i3]!);
    if (min === MAX_COUNT) return;
    // Conservative update: only the counters at the minimum grow.
    if (table[i0] === min) table[i0]++;
    if (table[i1] === min) table[i1]++;
    if (table[i2] === min) table[i2]++;
    if (table[i3] === min) table[i3]++;
    if (++this.#additions >= this.#sampleSize) this.#age();
  }

  /** Halves every counter: amortised O(1) because it happens once per `sampleSize` increments. */
  #age(): void {
    const table = this.#table;
    for (let i = 0; i < table.length; i++) table[i] = table[i]! >> 1;
    this.#additions = this.#additions >>> 1;
  }

  clear(): void {
    this.#table.fill(0);
    this.#additions = 0;
  }
}

/** The second hash: the key hash's high bits, remixed, so it is independent of the row-0 index (low bits). */
function second(hash: number): number {
  return Math.imul((hash >>> 15) | (hash << 17), 0x85ebca6b) | 1;
}
