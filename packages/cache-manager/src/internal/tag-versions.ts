import type { StoredEntry, TagVersionStore } from '../tier.js';

/**
 * Tag invalidation by version counters: invalidating a tag increments one number, whatever the
 * number of keys carrying it; an entry remembers the versions of its tags when written and is
 * stale as soon as any of them moved on. The local map is this process's view (monotonic, fed by
 * the bus and by every read of the shared store); the shared store, when a tier has one, is the truth.
 */
export class TagVersions {
  readonly #local = new Map<string, number>();

  constructor(private readonly shared: TagVersionStore | undefined) {}

  /** Against what this process knows: used for local (memory) entries, kept current by the bus. */
  isCurrentLocally(entry: StoredEntry): boolean {
    const { tags, tagVersions } = entry;
    if (tags === undefined) return true;
    for (let i = 0; i < tags.length; i++) {
      if ((this.#local.get(tags[i]!) ?? 0) > tagVersions![i]!) return false;
    }
    return true;
  }

  /** Against the shared store: used for entries read from a shared tier (other instances write there). */
  async isCurrentShared(entry: StoredEntry, deadline?: number): Promise<boolean> {
    if (entry.tags === undefined || entry.tags.length === 0) return true;
    if (this.shared) this.learn(entry.tags, await this.shared.get(entry.tags, deadline));
    return this.isCurrentLocally(entry);
  }

  /** Versions to store with a new entry. Falls back to local knowledge when the store is down. */
  async snapshot(tags: readonly string[], deadline?: number): Promise<number[]> {
    if (this.shared) {
      try {
        this.learn(tags, await this.shared.get(tags, deadline));
      } catch {
        // Local versions are never ahead of the store, so the entry errs towards being invalidated.
      }
    }
    return tags.map((tag) => this.#local.get(tag) ?? 0);
  }

  localSnapshot(tags: readonly string[]): number[] {
    return tags.map((tag) => this.#local.get(tag) ?? 0);
  }

  /** Invalidates locally at once; returns the shared store's new versions (throws when it is down). */
  async bump(tags: readonly string[]): Promise<number[]> {
    for (const tag of tags) this.#local.set(tag, (this.#local.get(tag) ?? 0) + 1);
    return this.bumpShared(tags);
  }

  /**
   * The shared half of a `bump` that failed (the store was down), replayed later: the local
   * versions already moved then and must not move again, or they run ahead of the store and
   * entries written with them outlive the next invalidation.
   */
  async bumpShared(tags: readonly string[]): Promise<number[]> {
    if (!this.shared) return this.localSnapshot(tags);
    const versions = await this.shared.bump(tags);
    this.learn(tags, versions);
    return versions;
  }

  learn(tags: readonly string[], versions: readonly number[]): void {
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i]!;
      const version = versions[i]!;
      if (version > (this.#local.get(tag) ?? 0)) this.#local.set(tag, version);
    }
  }
}
