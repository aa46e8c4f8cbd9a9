import { randomBytes } from 'node:crypto';
import {
  createSingleFlight,
  invariant,
  jsonSerializer,
  type Logger,
  type Metrics,
  NoaError,
  noopLogger,
  noopMetrics,
  type Serializer,
  TypedEventEmitter,
  withTimeout,
} from '@noa/core';
import type { BusMessage, CacheBus } from './bus.js';
import type { CacheEvents } from './events.js';
import { cacheHttpHeaders, type HttpHeaderOptions } from './http-headers.js';
import { CacheMetrics } from './internal/cache-metrics.js';
import { loadWithLease } from './internal/distributed-load.js';
import { InvalidationReplay } from './internal/invalidation-replay.js';
import { TagVersions } from './internal/tag-versions.js';
import { assertDuration, assertKey, assertTtl, expiryOf } from './internal/validate.js';
import { type WarmOptions, type WarmResult, warmKeys } from './internal/warm.js';
import type { CacheTier, DistributedLock, StoredEntry } from './tier.js';

export interface CacheOptions {
  /** Separates this cache's keys from others' in shared tiers and on the bus. Required. */
  namespace: string;
  /** Fastest first, e.g. `[memoryTier(), redisTier({ client })]`. Required, at least one. */
  tiers: CacheTier[];
  /** TTL when a call gives none. Default 60 000; Infinity = never expires. */
  defaultTtlMs?: number;
  /** How long past its TTL a value may still be served when the loader fails or is slow. Default 0. */
  defaultGraceMs?: number;
  /** For tiers that store bytes (Redis). Default JSON. Memory keeps values by reference. */
  serializer?: Serializer;
  /** Invalidations between instances (e.g. `redisBus(...)`). Without one, each instance's memory tier is on its own. */
  bus?: CacheBus;
  /** `'local'` (default): one loader per key per process. `'distributed'`: one per key across processes (needs a tier with a lock, e.g. redisTier). */
  lock?: 'local' | 'distributed';
  /** Lease of the distributed lock, renewed while the loader runs. Default 5 000. */
  lockLeaseMs?: number;
  /** How long to wait for another process's loader before loading anyway. Default 15 000. */
  lockWaitMs?: number;
  logger?: Logger;
  metrics?: Metrics;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

export interface SetOptions {
  ttlMs?: number;
  tags?: readonly string[];
  /** Keep the value this long past its TTL for stale-if-error. Default: the cache's `defaultGraceMs`. */
  graceMs?: number;
}

export interface GetOrSetOptions extends SetOptions {
  /**
   * XFetch probabilistic early refresh (Vattani et al., 2015): hot keys are reloaded in the
   * background shortly before they expire, more eagerly for slow loaders and higher `beta` (1 is
   * the paper's default), so readers never wait on a miss.
   */
  earlyRefresh?: { beta?: number };
  /**
   * Longest a caller waits for the loader. On expiry the caller gets the stale value when there is
   * one, else `NOA_CACHE_LOADER_TIMEOUT`; the loader keeps running and its result is stored.
   */
  timeoutMs?: number;
}

export interface LoaderContext<T> {
  key: string;
  /** The expired value still within its grace period, if any. */
  stale: T | undefined;
  /** Aborted when the cache closes. */
  signal: AbortSignal;
}

export type Loader<T> = (context: LoaderContext<T>) => T | Promise<T>;

export interface TierStats {
  name: string;
  hits: number;
  misses: number;
  hitRate: number;
  [extra: string]: number | string;
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** hits / (hits + misses), 0 before any read. */
  hitRate: number;
  sets: number;
  deletes: number;
  loads: number;
  loadErrors: number;
  staleServed: number;
  earlyRefreshes: number;
  tiers: TierStats[];
}

interface Found {
  entry: StoredEntry | undefined;
  /** An expired entry still inside its grace period. */
  stale: StoredEntry | undefined;
}

const isPromise = (value: unknown): value is Promise<unknown> =>
  typeof (value as Promise<unknown> | undefined)?.then === 'function';

const MISSING: Found = Object.freeze({ entry: undefined, stale: undefined });

/** The cache: read-through and write-through over its tiers, with stampede protection, grace and tags. */
export class Cache extends TypedEventEmitter<CacheEvents> {
  readonly namespace: string;
  readonly #tiers: CacheTier[];
  readonly #local: CacheTier[];
  readonly #remote: CacheTier[];
  readonly #first: CacheTier;
  readonly #firstIsLocal: boolean;
  readonly #defaultTtlMs: number;
  readonly #defaultGraceMs: number;
  readonly #bus: CacheBus | undefined;
  readonly #lock: DistributedLock | undefined;
  readonly #lockLeaseMs: number;
  readonly #lockWaitMs: number;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #metrics: CacheMetrics;
  readonly #tags: TagVersions;
  readonly #replay: InvalidationReplay;
  readonly #flight = createSingleFlight();
  readonly #inFlight = new Set<Promise<unknown>>();
  /** getOrSet calls past the memory fast path, and who waits for them to reach 0 (close). */
  #calls = 0;
  #idle: (() => void) | undefined;
  readonly #abort = new AbortController();
  readonly #instanceId = randomBytes(8).toString('hex');
  readonly #busReady: Promise<void> | undefined;
  /** The longest a call waits for remote tiers and the bus together; undefined when there are none. */
  readonly #budgetMs: number | undefined;
  #closed = false;
  // Counters (the tier arrays are indexed like #tiers).
  #hits = 0;
  #misses = 0;
  #sets = 0;
  #deletes = 0;
  #loads = 0;
  #loadErrors = 0;
  #staleServed = 0;
  #earlyRefreshes = 0;
  readonly #tierHits: number[];
  readonly #tierMisses: number[];

  constructor(options: CacheOptions) {
    super();
    const {
      namespace,
      tiers,
      defaultTtlMs = 60_000,
      defaultGraceMs = 0,
      serializer = jsonSerializer,
      bus,
      lock = 'local',
      lockLeaseMs = 5_000,
      lockWaitMs = 15_000,
      logger = noopLogger,
      metrics = noopMetrics,
      now = Date.now,
    } = options ?? ({} as CacheOptions);
    invariant(
      typeof namespace === 'string' && namespace.length > 0,
      'createCache: namespace must be a non-empty string, e.g. the service name',
    );
    invariant(
      Array.isArray(tiers) && tiers.length > 0,
      'createCache: tiers must list at least one tier, e.g. [memoryTier()]',
    );
    assertTtl(defaultTtlMs, 'createCache: defaultTtlMs');
    assertDuration(defaultGraceMs, 'createCache: defaultGraceMs');
    invariant(
      lock === 'local' || lock === 'distributed',
      "createCache: lock must be 'local' or 'distributed'",
    );
    assertTtl(lockLeaseMs, 'createCache: lockLeaseMs');
    assertDuration(lockWaitMs, 'createCache: lockWaitMs');
    const names = new Set(tiers.map((tier) => tier.name));
    invariant(
      names.size === tiers.length,
      'createCache: tier names must be unique; pass { name } to tell them apart',
    );
    this.namespace = namespace;
    this.#tiers = tiers;
    this.#first = tiers[0]!;
    this.#firstIsLocal = this.#first.kind === 'local';
    this.#local = tiers.filter((tier) => tier.kind === 'local');
    this.#remote = tiers.filter((tier) => tier.kind !== 'local');
    this.#defaultTtlMs = defaultTtlMs;
    this.#defaultGraceMs = defaultGraceMs;
    this.#bus = bus;
    this.#lockLeaseMs = lockLeaseMs;
    this.#lockWaitMs = lockWaitMs;
    this.#now = now;
    this.#logger = logger;
    this.#metrics = new CacheMetrics(metrics, namespace, [...names]);
    this.#tierHits = tiers.map(() => 0);
    this.#tierMisses = tiers.map(() => 0);
    this.#tags = new TagVersions(tiers.find((tier) => tier.tagVersions)?.tagVersions);
    const timeouts = [...this.#remote, ...(bus ? [bus] : [])]
      .map((part) => part.timeoutMs)
      .filter((ms): ms is number => ms !== undefined);
    this.#budgetMs = timeouts.length > 0 ? Math.max(...timeouts) : undefined;
    if (lock === 'distributed') {
      this.#lock = tiers.find((tier) => tier.lock)?.lock;
      invariant(
        this.#lock,
        "createCache: lock: 'distributed' needs a tier that provides a lock, e.g. redisTier()",
      );
    }
    this.#replay = new InvalidationReplay((error) => this.#reportError(error, 'replay'));
    tiers.forEach((tier, index) => {
      tier.attach({
        namespace,
        serializer,
        logger,
        metrics,
        onEvict: (key, reason) => {
          if (this.hasListeners('evict')) this.emit('evict', { key, tier: tier.name, reason });
        },
        onError: (error, operation) => this.#reportError(error, operation, undefined, tiers[index]!.name),
      });
    });
    if (bus) {
      this.#busReady = bus
        .start(namespace, this.#instanceId, {
          onMessage: (message) => this.#onBusMessage(message),
          onResync: () => this.#dropLocalCopies(),
        })
        .catch((error) => this.#reportError(error, 'bus.start'));
    }
  }

  // --- reads -----------------------------------------------------------------------------------

  /** The fresh value, or undefined. Lower-tier hits are copied into the tiers above. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    assertKey(key);
    this.#assertOpen();
    if (!this.#firstIsLocal)
      return (await this.#find(key, 0, undefined, this.#deadline())).entry?.value as T | undefined;
    const local = this.#localEntry(key);
    if (local !== undefined && (local.freshUntil === 0 || local.freshUntil > this.#now())) {
      this.#recordHit(key, 0);
      return local.value as T;
    }
    return (await this.#find(key, 1, local, this.#deadline())).entry?.value as T | undefined;
  }

  /**
   * The cached value, or the loader's. Concurrent callers of one missing key share one loader run
   * (across processes with `lock: 'distributed'`).
   */
  // Not async: one promise fewer per call on the hot paths; input errors still become rejections.
  getOrSet<T>(key: string, loader: Loader<T>, options?: GetOrSetOptions): Promise<T> {
    try {
      assertKey(key);
      this.#assertOpen();
      invariant(typeof loader === 'function', 'getOrSet: loader must be a function returning the value');
      if (this.#firstIsLocal) {
        const local = this.#localEntry(key);
        if (local !== undefined && (local.freshUntil === 0 || local.freshUntil > this.#now())) {
          this.#recordHit(key, 0);
          if (options?.earlyRefresh !== undefined) this.#maybeRefreshEarly(key, local, loader, options);
          return Promise.resolve(local.value as T);
        }
        if (options !== undefined) validateWriteOptions(options);
        return this.#getOrLoad(key, loader, options, 1, local);
      }
      if (options !== undefined) validateWriteOptions(options);
      return this.#getOrLoad(key, loader, options, 0, undefined);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** getOrSet past the memory fast path: the other tiers, then the loader (counted so close() waits). */
  async #getOrLoad<T>(
    key: string,
    loader: Loader<T>,
    options: GetOrSetOptions | undefined,
    fromTier: number,
    firstEntry: StoredEntry | undefined,
  ): Promise<T> {
    this.#calls++;
    try {
      const deadline = this.#deadline();
      const found = await this.#find(key, fromTier, firstEntry, deadline);
      if (found.entry !== undefined) {
        if (options?.earlyRefresh !== undefined) this.#maybeRefreshEarly(key, found.entry, loader, options);
        return found.entry.value as T;
      }
      const stale = found.stale;
      const load = this.#load(key, loader, options, stale, deadline);
      const timeoutMs = options?.timeoutMs;
      try {
        return (await (timeoutMs === undefined ? load : withTimeout(load, timeoutMs))) as T;
      } catch (error) {
        const timedOut = error instanceof NoaError && error.code === 'NOA_TIMEOUT';
        if (stale !== undefined && (stale.staleUntil === 0 || stale.staleUntil > this.#now())) {
          this.#staleServed++;
          this.#metrics.staleServed.inc(1, this.#metrics.labels);
          this.#reportError(error, timedOut ? 'load.timeout' : 'load', key, undefined, true);
          return stale.value as T;
        }
        if (timedOut) {
          throw new NoaError(
            'NOA_CACHE_LOADER_TIMEOUT',
            `loader for "${key}" did not finish within ${timeoutMs} ms and no stale value was available; it keeps running and will fill the cache, or raise timeoutMs / set graceMs`,
            { cause: error },
          );
        }
        throw error;
      }
    } finally {
      if (--this.#calls === 0) this.#idle?.();
    }
  }

  /** The first tier's entry (fresh or within grace), dropping it when one of its tags was invalidated. */
  #localEntry(key: string): StoredEntry | undefined {
    const entry = this.#first.get(key) as StoredEntry | undefined;
    if (entry === undefined || entry.tags === undefined || this.#tags.isCurrentLocally(entry)) return entry;
    this.#first.delete([key]);
    return undefined;
  }

  #recordHit(key: string, tierIndex: number): void {
    this.#hits++;
    this.#tierHits[tierIndex]!++;
    this.#metrics.hits.inc(1, this.#metrics.tierLabels[tierIndex]);
    if (this.hasListeners('hit')) this.emit('hit', { key, tier: this.#tiers[tierIndex]!.name });
  }

  /**
   * Looks through the tiers from `fromTier`; when 1, the caller already read the local first tier
   * and passes what it found (a stale entry, or nothing).
   */
  async #find(
    key: string,
    fromTier: number,
    firstEntry: StoredEntry | undefined,
    deadline: number | undefined,
  ): Promise<Found> {
    const now = this.#now();
    let stale: StoredEntry | undefined;
    if (fromTier === 1) {
      this.#countTierMiss(0);
      stale = this.#staleOf(firstEntry, now);
    }
    const tiers = this.#tiers;
    for (let index = fromTier; index < tiers.length; index++) {
      const tier = tiers[index]!;
      if (tier.kind === 'edge') continue;
      const entry = await this.#readTier(tier, key, deadline);
      if (entry !== undefined && (entry.freshUntil === 0 || entry.freshUntil > now)) {
        this.#recordHit(key, index);
        this.#backfill(key, entry, index);
        return { entry, stale: undefined };
      }
      this.#countTierMiss(index);
      stale ??= this.#staleOf(entry, now);
    }
    this.#misses++;
    if (this.hasListeners('miss')) this.emit('miss', { key });
    return stale === undefined ? MISSING : { entry: undefined, stale };
  }

  /** One tier's entry when its tags are current; failures become an `error` event and a miss. */
  async #readTier(tier: CacheTier, key: string, deadline?: number): Promise<StoredEntry | undefined> {
    try {
      const result = tier.get(key);
      const entry = isPromise(result) ? await result : result;
      if (entry === undefined) return undefined;
      const current =
        tier.kind === 'local'
          ? this.#tags.isCurrentLocally(entry)
          : await this.#tags.isCurrentShared(entry, deadline);
      return current ? entry : undefined;
    } catch (error) {
      this.#reportError(error, 'get', key, tier.name);
      return undefined;
    }
  }

  /** A fresh value from the shared tiers (another process may have loaded it), copied to the local ones. */
  async #readShared(key: string, deadline: number | undefined): Promise<unknown> {
    for (let index = 0; index < this.#tiers.length; index++) {
      const tier = this.#tiers[index]!;
      if (tier.kind !== 'shared') continue;
      const entry = await this.#readTier(tier, key, deadline);
      if (entry !== undefined && (entry.freshUntil === 0 || entry.freshUntil > this.#now())) {
        this.#backfill(key, entry, index);
        return entry.value;
      }
    }
    return undefined;
  }

  #countTierMiss(index: number): void {
    this.#tierMisses[index]!++;
    this.#metrics.misses.inc(1, this.#metrics.tierLabels[index]);
  }

  #staleOf(entry: StoredEntry | undefined, now: number): StoredEntry | undefined {
    if (entry === undefined || (entry.staleUntil !== 0 && entry.staleUntil <= now)) return undefined;
    if (entry.tags !== undefined && !this.#tags.isCurrentLocally(entry)) return undefined;
    return entry;
  }

  /** A lower tier's hit goes into the tiers above it; the entry keeps its absolute expiry. */
  #backfill(key: string, entry: StoredEntry, foundAt: number): void {
    for (let index = 0; index < foundAt; index++) {
      const tier = this.#tiers[index]!;
      if (tier.kind === 'edge') continue;
      this.#settle(tier.set(key, entry), 'backfill', key, tier.name);
    }
  }

  // --- loading ---------------------------------------------------------------------------------

  #load<T>(
    key: string,
    loader: Loader<T>,
    options: GetOrSetOptions | undefined,
    stale: StoredEntry | undefined,
    deadline?: number,
  ) {
    return this.#flight.do(key, () => this.#track(this.#runLoader(key, loader, options, stale, deadline)));
  }

  async #runLoader<T>(
    key: string,
    loader: Loader<T>,
    options: GetOrSetOptions | undefined,
    stale: StoredEntry | undefined,
    deadline: number | undefined,
  ): Promise<T> {
    const tags = options?.tags;
    // Versions are read before loading: an invalidation during the load leaves the result stale.
    const tagVersions = tags?.length ? await this.#tags.snapshot(tags, deadline) : undefined;
    /** `remoteDeadline`: when the call's remote work must be over; the loader's own time does not count. */
    const loadAndStore = async (remoteDeadline: number | undefined): Promise<T> => {
      this.#loads++;
      const started = this.#now();
      const loadStartedAt = Date.now();
      let value: T;
      try {
        value = await loader({ key, stale: stale?.value as T | undefined, signal: this.#abort.signal });
      } catch (error) {
        this.#loadErrors++;
        this.#metrics.loaderSeconds.observe((this.#now() - started) / 1000, this.#metrics.loadFailed);
        if (stale === undefined) this.#reportError(error, 'load', key);
        throw error;
      }
      const loadMs = this.#now() - started;
      this.#metrics.loaderSeconds.observe(loadMs / 1000, this.#metrics.loadOk);
      if (value === undefined) {
        this.#loadErrors++;
        throw new NoaError(
          'NOA_CACHE_LOADER_UNDEFINED',
          `loader for "${key}" returned undefined; return null to cache "no value", or throw to cache nothing`,
        );
      }
      const written = this.#write(key, this.#entryOf(value, options, tagVersions, loadMs));
      // Memory is filled synchronously; callers need not wait for Redis and the bus (each bounded
      // by its own timeout) unless a lease is used: waiters in other processes read Redis next. They
      // wait at most what the call's budget had left when the loader started.
      if (this.#lock === undefined) void this.#track(written);
      else {
        const left =
          remoteDeadline === undefined ? undefined : Date.now() + Math.max(0, remoteDeadline - loadStartedAt);
        await this.#waitAtMost(written, left);
      }
      return value;
    };
    if (this.#lock === undefined) return loadAndStore(deadline);
    return loadWithLease(
      this.#lock,
      key,
      {
        leaseMs: this.#lockLeaseMs,
        waitMs: this.#lockWaitMs,
        now: this.#now,
        deadline,
        freshDeadline: () => this.#deadline(),
      },
      (readDeadline) => this.#readShared(key, readDeadline) as Promise<T | undefined>,
      loadAndStore,
    );
  }

  #maybeRefreshEarly<T>(key: string, entry: StoredEntry, loader: Loader<T>, options: GetOrSetOptions): void {
    if (entry.freshUntil === 0 || this.#flight.has(key) || this.#closed) return;
    const beta = options.earlyRefresh?.beta ?? 1;
    // XFetch: refresh when now - delta * beta * ln(rand) >= expiry; delta is the last load time.
    const delta = entry.deltaMs;
    if (this.#now() - delta * beta * Math.log(Math.random()) < entry.freshUntil) return;
    this.#earlyRefreshes++;
    this.#load(key, loader, options, entry, this.#deadline()).catch((error) =>
      this.#reportError(error, 'refresh', key, undefined, true),
    );
  }

  /** Keeps track of running work so close() can wait for it. */
  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inFlight.add(promise);
    const forget = () => this.#inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  // --- writes ----------------------------------------------------------------------------------

  async set<T>(key: string, value: T, options?: SetOptions): Promise<void> {
    assertKey(key);
    this.#assertOpen();
    if (value === undefined) {
      throw new NoaError('NOA_CACHE_INVALID_VALUE', `set("${key}", undefined): use delete(), or store null`);
    }
    if (options !== undefined) validateWriteOptions(options);
    const deadline = this.#deadline();
    const tags = options?.tags;
    const tagVersions = tags?.length ? await this.#tags.snapshot(tags, deadline) : undefined;
    // Memory is written before the first await; Redis and the bus get what is left of the budget.
    const written = this.#write(key, this.#entryOf(value, options, tagVersions, 0));
    // The edge holds the previous response built from this key: an explicit write outdates it.
    for (const tier of this.#remote)
      if (tier.kind === 'edge') this.#settle(tier.delete([key]), 'set', key, tier.name);
    await this.#waitAtMost(written, deadline);
  }

  #entryOf(
    value: unknown,
    options: SetOptions | undefined,
    tagVersions: number[] | undefined,
    loadMs: number,
  ) {
    const now = this.#now();
    const ttlMs = options?.ttlMs ?? this.#defaultTtlMs;
    const graceMs = options?.graceMs ?? this.#defaultGraceMs;
    const freshUntil = expiryOf(ttlMs, now);
    const entry: StoredEntry = {
      value,
      freshUntil,
      staleUntil: freshUntil === 0 ? 0 : freshUntil + graceMs,
      deltaMs: freshUntil === 0 ? loadMs : Math.max(loadMs, ttlMs / 100, 1),
    };
    if (tagVersions !== undefined) {
      entry.tags = [...options!.tags!];
      entry.tagVersions = tagVersions;
    }
    return entry;
  }

  async #write(key: string, entry: StoredEntry): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const tier of this.#tiers) {
      if (tier.kind === 'edge') continue;
      const result = this.#settle(tier.set(key, entry), 'set', key, tier.name);
      if (result) pending.push(result);
    }
    if (pending.length) await Promise.all(pending);
    this.#sets++;
    if (this.#bus) await this.#bus.publish({ type: 'set', keys: [key] });
    if (this.hasListeners('set')) this.emit('set', { key });
  }

  /** Shared-tier writes that fail are reported, not thrown: the value is still served from memory. */
  #settle(
    result: void | Promise<void>,
    operation: string,
    key: string,
    tier: string,
  ): Promise<void> | undefined {
    if (!isPromise(result)) return undefined;
    return result.catch((error) => this.#reportError(error, operation, key, tier));
  }

  async delete(key: string): Promise<void> {
    assertKey(key);
    this.#assertOpen();
    const deadline = this.#deadline();
    const done = this.#invalidate(
      'delete',
      (tier) => tier.delete([key]),
      { type: 'delete', keys: [key] },
      key,
    );
    this.#deletes++;
    if (this.hasListeners('delete')) this.emit('delete', { key });
    await this.#waitAtMost(done, deadline);
  }

  async clear(): Promise<void> {
    this.#assertOpen();
    const deadline = this.#deadline();
    await this.#waitAtMost(
      this.#invalidate('clear', (tier) => tier.clear(), { type: 'clear' }),
      deadline,
    );
  }

  /** Every entry carrying one of `tags` becomes a miss, in O(1) per tag, on every instance and tier. */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    this.#assertOpen();
    invariant(
      Array.isArray(tags) && tags.every((tag) => typeof tag === 'string' && tag.length > 0),
      'invalidateTags: pass an array of non-empty strings',
      'NOA_CACHE_INVALID_TAG',
    );
    if (tags.length === 0) return;
    await this.#waitAtMost(this.#invalidateTags([...tags]), this.#deadline());
  }

  async #invalidateTags(tags: string[]): Promise<void> {
    let versions: number[];
    try {
      // Local versions move at once (synchronously); the shared ones in Redis.
      versions = await this.#tags.bump(tags);
    } catch (error) {
      // Local copies are already invalid; the shared versions are bumped when the store is back.
      this.#reportError(error, 'invalidateTags', undefined, this.#remote[0]?.name);
      versions = this.#tags.localSnapshot(tags);
      this.#replay.push(async () => {
        const shared = await this.#tags.bumpShared(tags);
        // Instances that knew newer versions than this one ignored the ones sent during the outage.
        await this.#bus?.publish({ type: 'tags', tags, versions: shared });
      });
    }
    await this.#invalidate('invalidateTags', (tier) => tier.invalidateTags?.(tags), {
      type: 'tags',
      tags,
      versions,
    });
  }

  /**
   * Applies an invalidation to every tier (local ones synchronously, before the first await), then
   * tells the other instances; failed shared tiers get it replayed once they are back.
   */
  async #invalidate(
    operation: string,
    apply: (tier: CacheTier) => void | Promise<void>,
    message: BusMessage,
    key?: string,
  ): Promise<void> {
    await Promise.all(
      this.#tiers.map(async (tier) => {
        try {
          await apply(tier);
        } catch (error) {
          this.#reportError(error, operation, key, tier.name);
          if (tier.kind !== 'local') this.#replay.push(async () => apply(tier));
        }
      }),
    );
    if (this.#bus) await this.#bus.publish(message);
  }

  /** When the call's Redis and bus work must be over (epoch ms), or undefined without remote parts. */
  #deadline(): number | undefined {
    return this.#budgetMs === undefined ? undefined : Date.now() + this.#budgetMs;
  }

  /**
   * Waits for `work` until `deadline` at most: a call as a whole never waits longer than the budget,
   * however many remote steps it takes. Unfinished work goes on in the background (close() waits
   * for it; each step is bounded by its own timeout, and failures become `error` events).
   */
  #waitAtMost(work: Promise<void>, deadline: number | undefined): Promise<void> {
    if (deadline === undefined) return work;
    this.#track(work);
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, remaining);
      work.then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (error) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  // --- bus ---------------------------------------------------------------------------------------

  #onBusMessage(message: BusMessage): void {
    this.#applyBusMessage(message);
    if (this.hasListeners('invalidate')) this.emit('invalidate', message);
  }

  #applyBusMessage(message: BusMessage): void {
    switch (message.type) {
      case 'set':
      case 'delete':
        for (const tier of this.#local) tier.delete(message.keys);
        break;
      case 'clear':
        this.#dropLocalCopies();
        break;
      case 'tags':
        this.#tags.learn(message.tags, message.versions);
        break;
    }
  }

  #dropLocalCopies(): void {
    for (const tier of this.#local) tier.clear();
  }

  // --- extras ------------------------------------------------------------------------------------

  /**
   * Headers for an HTTP response built from `key`, so a CDN and browsers cache it like this cache
   * does: `Cache-Control`, and the tags as `Surrogate-Key` (Fastly) and `Cache-Tag` (Cloudflare).
   */
  httpHeaders(key: string, options: HttpHeaderOptions = {}): Record<string, string> {
    assertKey(key);
    const edge = this.#tiers.find((tier) => tier.kind === 'edge') as
      | (CacheTier & { surrogateKeysFor?(tags: readonly string[]): string[] })
      | undefined;
    return cacheHttpHeaders(options, this.#defaultTtlMs, this.#defaultGraceMs, edge?.surrogateKeysFor);
  }

  /** Loads `keys` ahead of traffic with bounded concurrency; failures are counted, not thrown. */
  async warm<T>(
    keys: Iterable<string>,
    loader: (key: string) => T | Promise<T>,
    options: WarmOptions = {},
  ): Promise<WarmResult> {
    this.#assertOpen();
    invariant(typeof loader === 'function', 'warm: loader must be a function of the key');
    return warmKeys(keys, options, async (key) => {
      if (!options.force && (await this.#peekFresh(key))) return 'skipped';
      await this.set(key, await loader(key), options);
      return 'loaded';
    });
  }

  async #peekFresh(key: string): Promise<boolean> {
    for (const tier of this.#tiers) {
      if (tier.kind === 'edge') continue;
      const entry = await this.#readTier(tier, key);
      if (entry && (entry.freshUntil === 0 || entry.freshUntil > this.#now())) return true;
    }
    return false;
  }

  stats(): CacheStats {
    const reads = this.#hits + this.#misses;
    return {
      hits: this.#hits,
      misses: this.#misses,
      hitRate: reads === 0 ? 0 : this.#hits / reads,
      sets: this.#sets,
      deletes: this.#deletes,
      loads: this.#loads,
      loadErrors: this.#loadErrors,
      staleServed: this.#staleServed,
      earlyRefreshes: this.#earlyRefreshes,
      tiers: this.#tiers.map((tier, index) => {
        const hits = this.#tierHits[index]!;
        const misses = this.#tierMisses[index]!;
        return {
          ...tier.stats?.(),
          name: tier.name,
          hits,
          misses,
          hitRate: hits + misses === 0 ? 0 : hits / (hits + misses),
        };
      }),
    };
  }

  // --- lifecycle -------------------------------------------------------------------------------

  /** Waits for running loaders, then closes the bus and the tiers. Later calls fail with NOA_CACHE_CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Running calls may start loads and writes, which may be tracked after a first look: loop.
    while (this.#calls > 0 || this.#inFlight.size > 0) {
      if (this.#calls > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
      this.#idle = undefined;
      await Promise.allSettled([...this.#inFlight]);
    }
    this.#abort.abort(new NoaError('NOA_CACHE_CLOSED', 'the cache was closed'));
    await this.#busReady;
    await this.#replay.close();
    await this.#bus?.close().catch((error) => this.#reportError(error, 'bus.close'));
    for (const tier of this.#tiers)
      await tier.close?.().catch((error) => this.#reportError(error, 'close', undefined, tier.name));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new NoaError('NOA_CACHE_CLOSED', `cache "${this.namespace}" is closed; create a new one`);
    }
  }

  #reportError(error: unknown, operation: string, key?: string, tier?: string, servedStale?: boolean): void {
    this.#metrics.errors.inc(1, { namespace: this.namespace, operation });
    this.#logger.debug({ err: error, operation, key, tier }, 'cache operation failed');
    if (this.hasListeners('error')) this.emit('error', { error, operation, key, tier, servedStale });
  }
}

function validateWriteOptions(options: GetOrSetOptions): void {
  if (options.ttlMs !== undefined) assertTtl(options.ttlMs);
  if (options.graceMs !== undefined) assertDuration(options.graceMs, 'graceMs');
  if (options.timeoutMs !== undefined) assertDuration(options.timeoutMs, 'timeoutMs');
  if (options.tags !== undefined) {
    invariant(
      Array.isArray(options.tags) && options.tags.every((tag) => typeof tag === 'string' && tag.length > 0),
      'tags must be an array of non-empty strings',
      'NOA_CACHE_INVALID_TAG',
    );
  }
  const beta = options.earlyRefresh?.beta;
  if (beta !== undefined) {
    invariant(
      typeof beta === 'number' && beta > 0 && Number.isFinite(beta),
      'earlyRefresh.beta must be a number > 0 (1 is the usual choice)',
    );
  }
}

/** Creates a cache over `tiers`. See CacheOptions for the defaults. */
export function createCache(options: CacheOptions): Cache {
  return new Cache(options);
}
