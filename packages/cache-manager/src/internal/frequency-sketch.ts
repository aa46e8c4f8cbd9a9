const SEEDS = [0x97cb3127, 0xc3a5c85c, 0x2d358dcc, 0x9ae16a3b];
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
    this.#table = new Uint8Array(width * SEEDS.length);
    this.#mask = width - 1;
    this.#sampleSize = 10 * Math.max(expectedEntries, 16);
  }

  #index(hash: number, row: number): number {
    let h = Math.imul(hash ^ SEEDS[row]!, 0x9e3779b1);
    h ^= h >>> 15;
    return row * (this.#mask + 1) + (h & this.#mask);
  }

  frequency(hash: number): number {
    let min = MAX_COUNT;
    for (let row = 0; row < SEEDS.length; row++) {
      const count = this.#table[this.#index(hash, row)]!;
      if (count < min) min = count;
    }
    return min;
  }

  increment(hash: number): void {
    const table = this.#table;
    const i0 = this.#index(hash, 0);
    const i1 = this.#index(hash, 1);
    const i2 = this.#index(hash, 2);
    const i3 = this.#index(hash, 3);
    const min = Math.min(table[i0]!, table[i1]!, table[i2]!, table[i3]!);
    if (min === MAX_COUNT) return;
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
