/**
 * Keys known to be blocked, with the local time their block ends, so a blocked key is answered
 * without a store round trip. Bounded: past `maxSize` the oldest entry goes (it is only a cache;
 * the store still holds the block).
 */
export class BlockCache {
  readonly #until = new Map<string, number>();
  readonly #maxSize: number;

  constructor(maxSize: number) {
    this.#maxSize = maxSize;
  }

  /** Milliseconds of block left for `key`, or 0. */
  remaining(key: string): number {
    // Usually empty: answered without reading the clock.
    if (this.#until.size === 0) return 0;
    const until = this.#until.get(key);
    if (until === undefined) return 0;
    const now = Date.now();
    if (until > now) return until - now;
    this.#until.delete(key);
    return 0;
  }

  /** Returns whether the key was not cached as blocked before. */
  add(key: string, until: number): boolean {
    if (this.#maxSize === 0) return false;
    const known = this.#until.delete(key);
    if (this.#until.size >= this.#maxSize) this.#until.delete(this.#until.keys().next().value!);
    this.#until.set(key, until);
    return !known;
  }

  delete(key: string): void {
    this.#until.delete(key);
  }

  clear(): void {
    this.#until.clear();
  }
}
