import { abortError, invariant, type Logger, NoaError, noopLogger, TypedEventEmitter } from '@noa/core';
import { Queue } from './internal/queue.js';

/** How resources are made, destroyed and checked. */
export interface ResourceFactory<T> {
  create(): Promise<T>;
  destroy(resource: T): unknown;
  /** Checked on borrow after the resource sat idle for `validateAfterIdleMs`; false or a throw discards it. */
  validate?(resource: T): boolean | Promise<boolean>;
  /** A free synchronous check (e.g. the socket already closed), run on every borrow and on idle resources at each eviction pass. */
  isBroken?(resource: T): boolean;
}

export interface ResourcePoolOptions<T> extends ResourceFactory<T> {
  /** Resources kept open even when idle (default 0). */
  min?: number;
  /** Upper bound of open resources, busy or idle (default 10). */
  max?: number;
  /** How long `acquire()` waits before `NOA_POOL_ACQUIRE_TIMEOUT` (default 30 000; Infinity waits forever). */
  acquireTimeoutMs?: number;
  /** Idle resources above `min` are destroyed after this long (default 30 000; 0 keeps them). */
  idleTimeoutMs?: number;
  /** Resources are replaced after this age, when next idle (default 0: no limit). */
  maxLifetimeMs?: number;
  /** Borrowing a resource idle for at least this long runs `validate` first (default 1 000; 0: always). */
  validateAfterIdleMs?: number;
  /** A lease held longer than this is reported once with the acquiring stack (default 0: off). */
  leakDetectionMs?: number;
  /** How often idle eviction and `min` refill run (default: half the shortest timeout, 10..1 000 ms). */
  evictionIntervalMs?: number;
  /** Said in errors and logs. */
  name?: string;
  logger?: Logger;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  /** Overrides the pool's `acquireTimeoutMs` for this call. */
  timeoutMs?: number;
}

/** A borrowed resource. Call `release()` (or `destroy()` when it is broken) exactly once. */
export interface Lease<T> {
  readonly resource: T;
  /** `Date.now()` when the lease was handed out. */
  readonly acquiredAt: number;
  release(): void;
  /** Returns the resource as broken: it is destroyed instead of reused. */
  destroy(reason?: unknown): void;
  [Symbol.dispose](): void;
}

export interface LeakInfo {
  heldMs: number;
  /** The stack of the code that acquired the lease. */
  stack: string;
  pool: string;
}

export interface ResourcePoolStats {
  /** Open resources, busy or idle. */
  total: number;
  idle: number;
  /** Lent out (or being validated). */
  active: number;
  /** Callers waiting in `acquire()`. */
  waiting: number;
  /** Resources being created. */
  pending: number;
  acquired: number;
  created: number;
  destroyed: number;
  timeouts: number;
  aborted: number;
  leaks: number;
  createFailures: number;
  validationFailures: number;
}

export type DestroyReason = 'idle' | 'expired' | 'invalid' | 'broken' | 'cleared' | 'closed';

export interface ResourcePoolEvents<T> {
  [event: string]: unknown[];
  create: [resource: T];
  destroy: [resource: T, reason: DestroyReason];
  acquire: [resource: T];
  release: [resource: T];
  leak: [info: LeakInfo];
  /** A create, destroy or validate call failed. */
  error: [error: unknown];
}

export interface ResourcePool<T> extends TypedEventEmitter<ResourcePoolEvents<T>> {
  /** Waits FIFO for a resource. Rejects with NOA_POOL_ACQUIRE_TIMEOUT, NOA_ABORTED, NOA_POOL_CLOSED or NOA_POOL_CREATE_FAILED. */
  acquire(options?: AcquireOptions): Promise<Lease<T>>;
  /** Acquires, runs `fn`, releases (even when `fn` throws). */
  use<R>(fn: (resource: T) => R | Promise<R>, options?: AcquireOptions): Promise<R>;
  stats(): ResourcePoolStats;
  /** Destroys idle resources now and busy ones when released; the pool stays usable. */
  clear(): void;
  /**
   * Rejects every acquire waiting now with `error` (for example: its server is known to be down,
   * so waiting for a resource to come back is pointless). Later acquires wait as usual.
   */
  failWaiters(error: unknown): void;
  /** Stops lending, rejects waiters, waits for busy resources to come back (or `timeoutMs`), destroys all. */
  close(options?: { timeoutMs?: number }): Promise<void>;
  readonly closed: boolean;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Entry<T> {
  resource: T;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number;
  generation: number;
  lease: LeaseImpl<T> | null;
}

interface Waiter<T> {
  resolve: (lease: Lease<T>) => void;
  reject: (error: unknown) => void;
  deadline: number;
  settled: boolean;
  stack: string | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface Owner<T> {
  giveBack(entry: Entry<T>, lease: LeaseImpl<T>, broken: boolean): void;
}

class LeaseImpl<T> implements Lease<T> {
  readonly resource: T;
  readonly acquiredAt: number;
  released = false;
  leakReported = false;
  constructor(
    private readonly owner: Owner<T>,
    private readonly entry: Entry<T>,
    readonly stack: string | undefined,
  ) {
    this.resource = entry.resource;
    this.acquiredAt = Date.now();
  }
  release(): void {
    this.#finish(false);
  }
  destroy(): void {
    this.#finish(true);
  }
  [Symbol.dispose](): void {
    if (!this.released) this.release();
  }
  #finish(broken: boolean): void {
    if (this.released) {
      throw new NoaError(
        'NOA_POOL_ALREADY_RELEASED',
        'this lease was already released or destroyed; release each acquired resource exactly once',
      );
    }
    this.released = true;
    this.owner.giveBack(this.entry, this, broken);
  }
}

const positive = (value: number | undefined, fallback: number) => value ?? fallback;

class ResourcePoolImpl<T> extends TypedEventEmitter<ResourcePoolEvents<T>> implements ResourcePool<T> {
  readonly #factory: ResourceFactory<T>;
  readonly #min: number;
  readonly #max: number;
  readonly #acquireTimeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #maxLifetimeMs: number;
  readonly #validateAfterIdleMs: number;
  readonly #leakDetectionMs: number;
  readonly #name: string;
  readonly #logger: Logger;

  /** Idle resources; the end is the most recently used, so the oldest idle out first. */
  readonly #idle: Entry<T>[] = [];
  readonly #all = new Set<Entry<T>>();
  readonly #waiters = new Queue<Waiter<T>>();
  readonly #leases = new Set<LeaseImpl<T>>();
  readonly #destroying = new Set<Promise<unknown>>();
  #liveWaiters = 0;
  #pending = 0;
  #validating = 0;
  #generation = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  #onDrained: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  readonly #housekeeping: ReturnType<typeof setInterval>[] = [];
  readonly #counters = {
    acquired: 0,
    created: 0,
    destroyed: 0,
    timeouts: 0,
    aborted: 0,
    leaks: 0,
    createFailures: 0,
    validationFailures: 0,
  };
  readonly #owner: Owner<T> = { giveBack: (entry, lease, broken) => this.#giveBack(entry, lease, broken) };

  constructor(options: ResourcePoolOptions<T>) {
    super();
    invariant(typeof options?.create === 'function', 'createResourcePool: create must be a function');
    invariant(typeof options.destroy === 'function', 'createResourcePool: destroy must be a function');
    invariant(
      options.validate === undefined || typeof options.validate === 'function',
      'createResourcePool: validate must be a function when given',
    );
    this.#factory = options;
    this.#max = positive(options.max, 10);
    this.#min = positive(options.min, 0);
    this.#acquireTimeoutMs = positive(options.acquireTimeoutMs, 30_000);
    this.#idleTimeoutMs = positive(options.idleTimeoutMs, 30_000);
    this.#maxLifetimeMs = positive(options.maxLifetimeMs, 0);
    this.#validateAfterIdleMs = positive(options.validateAfterIdleMs, 1_000);
    this.#leakDetectionMs = positive(options.leakDetectionMs, 0);
    this.#name = options.name ?? 'pool';
    this.#logger = options.logger ?? noopLogger;
    invariant(Number.isInteger(this.#max) && this.#max >= 1, `${this.#name}: max must be an integer >= 1`);
    invariant(
      Number.isInteger(this.#min) && this.#min >= 0 && this.#min <= this.#max,
      `${this.#name}: min must be an integer between 0 and max (${this.#max})`,
    );
    for (const [key, value] of Object.entries({
      acquireTimeoutMs: this.#acquireTimeoutMs,
      idleTimeoutMs: this.#idleTimeoutMs,
      maxLifetimeMs: this.#maxLifetimeMs,
      validateAfterIdleMs: this.#validateAfterIdleMs,
      leakDetectionMs: this.#leakDetectionMs,
    })) {
      invariant(
        typeof value === 'number' && value >= 0 && !Number.isNaN(value),
        `${this.#name}: ${key} must be a number of milliseconds >= 0`,
      );
    }

    const shortest = Math.min(
      ...[this.#idleTimeoutMs, this.#maxLifetimeMs].filter((ms) => ms > 0 && Number.isFinite(ms)),
      2_000,
    );
    const evictionIntervalMs = options.evictionIntervalMs ?? Math.min(1_000, Math.max(10, shortest / 2));
    invariant(
      Number.isFinite(evictionIntervalMs) && evictionIntervalMs > 0,
      `${this.#name}: evictionIntervalMs must be a positive number`,
    );
    if (this.#idleTimeoutMs > 0 || this.#maxLifetimeMs > 0 || this.#min > 0 || this.#factory.isBroken) {
      this.#housekeeping.push(setInterval(() => this.#evict(), evictionIntervalMs).unref());
    }
    if (this.#leakDetectionMs > 0) {
      const every = Math.min(1_000, Math.max(5, this.#leakDetectionMs / 4));
      this.#housekeeping.push(setInterval(() => this.#checkLeaks(), every).unref());
    }
    this.#fillToMin();
  }

  get closed(): boolean {
    return this.#closed;
  }

  acquire(options?: AcquireOptions): Promise<Lease<T>> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const signal = options?.signal;
    if (signal?.aborted) {
      this.#counters.aborted += 1;
      return Promise.reject(abortError(signal, `${this.#name}: acquire`));
    }
    const stack = this.#leakDetectionMs > 0 ? captureStack() : undefined;
    // Fast path: nobody waits ahead of us and an idle resource needs no check.
    if (this.#liveWaiters === 0 && this.#idle.length > 0) {
      const now = Date.now();
      while (this.#idle.length > 0) {
        const entry = this.#idle[this.#idle.length - 1]!;
        const stale = this.#staleReason(entry, now);
        if (stale) {
          this.#idle.pop();
          this.#destroy(entry, stale);
          continue;
        }
        if (this.#needsValidation(entry, now)) break;
        this.#idle.pop();
        return Promise.resolve(this.#lend(entry, stack));
      }
    }
    const timeoutMs = options?.timeoutMs ?? this.#acquireTimeoutMs;
    invariant(
      typeof timeoutMs === 'number' && timeoutMs >= 0,
      `${this.#name}: acquire timeoutMs must be a number >= 0`,
    );
    return new Promise<Lease<T>>((resolve, reject) => {
      const waiter: Waiter<T> = {
        resolve,
        reject,
        deadline: Date.now() + timeoutMs,
        settled: false,
        stack,
        signal,
        onAbort: undefined,
      };
      if (signal) {
        waiter.onAbort = () => {
          if (waiter.settled) return;
          this.#settle(waiter);
          this.#counters.aborted += 1;
          reject(abortError(signal, `${this.#name}: acquire`));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
      this.#liveWaiters += 1;
      if (Number.isFinite(timeoutMs)) this.#armTimer(waiter.deadline);
      this.#dispatch();
    });
  }

  async use<R>(fn: (resource: T) => R | Promise<R>, options?: AcquireOptions): Promise<R> {
    const lease = await this.acquire(options);
    try {
      return await fn(lease.resource);
    } finally {
      lease.release();
    }
  }

  stats(): ResourcePoolStats {
    const total = this.#all.size;
    return {
      total,
      idle: this.#idle.length,
      active: total - this.#idle.length,
      waiting: this.#liveWaiters,
      pending: this.#pending,
      ...this.#counters,
    };
  }

  clear(): void {
    this.#generation += 1;
    for (const entry of this.#idle.splice(0)) this.#destroy(entry, 'cleared');
    this.#fillToMin();
    this.#dispatch();
  }

  failWaiters(error: unknown): void {
    for (const waiter of this.#waiters.drain()) {
      if (waiter.settled) continue;
      this.#settle(waiter);
      waiter.reject(error);
    }
  }

  close({ timeoutMs = Number.POSITIVE_INFINITY }: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closed = true;
    for (const timer of this.#housekeeping) clearInterval(timer);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.failWaiters(this.#closedError());
    for (const entry of this.#idle.splice(0)) this.#destroy(entry, 'closed');
    this.#closing = (async () => {
      if (this.#all.size > 0 || this.#pending > 0) {
        let force: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          this.#onDrained = resolve;
          if (Number.isFinite(timeoutMs)) {
            // Busy resources that never come back are destroyed so close() always finishes.
            force = setTimeout(() => {
              this.#logger.warn(
                { pool: this.#name, active: this.#all.size },
                'close timed out waiting for busy resources; destroying them',
              );
              for (const entry of [...this.#all]) this.#destroy(entry, 'closed');
              this.#checkDrained();
            }, timeoutMs);
          }
          this.#checkDrained();
        });
        clearTimeout(force);
      }
      while (this.#destroying.size > 0) await Promise.allSettled([...this.#destroying]);
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // --- internals ---------------------------------------------------------------------------------

  #closedError(): NoaError {
    return new NoaError('NOA_POOL_CLOSED', `${this.#name} is closed; create a new pool to acquire again`);
  }

  /** Why an idle resource must not be lent (undefined: it is fine). */
  #staleReason(entry: Entry<T>, now: number): DestroyReason | undefined {
    if (entry.generation !== this.#generation) return 'cleared';
    if (now >= entry.expiresAt) return 'expired';
    if (this.#factory.isBroken?.(entry.resource)) return 'broken';
    return undefined;
  }

  #needsValidation(entry: Entry<T>, now: number): boolean {
    return this.#factory.validate !== undefined && now - entry.lastUsedAt >= this.#validateAfterIdleMs;
  }

  #lend(entry: Entry<T>, stack: string | undefined): Lease<T> {
    const lease = new LeaseImpl(this.#owner, entry, stack);
    entry.lease = lease;
    this.#counters.acquired += 1;
    if (this.#leakDetectionMs > 0) this.#leases.add(lease);
    if (this.hasListeners('acquire')) this.emit('acquire', entry.resource);
    return lease;
  }

  #settle(waiter: Waiter<T>): void {
    waiter.settled = true;
    this.#liveWaiters -= 1;
    if (waiter.onAbort) waiter.signal!.removeEventListener('abort', waiter.onAbort);
    if (this.#liveWaiters === 0) {
      this.#waiters.drain();
      if (this.#timer) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#timerAt = Number.POSITIVE_INFINITY;
      }
    }
  }

  /** The oldest waiter still waiting, removed from the queue. */
  #nextWaiter(): Waiter<T> | undefined {
    while (this.#liveWaiters > 0) {
      const waiter = this.#waiters.shift()!;
      if (!waiter.settled) return waiter;
    }
    return undefined;
  }

  /** One timer for all waiters, armed for the earliest deadline (per-waiter timers cost too much at 1000 waiters). */
  #armTimer(deadline: number): void {
    if (this.#timer && this.#timerAt <= deadline) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = deadline;
    this.#timer = setTimeout(() => this.#expireWaiters(), Math.max(0, deadline - Date.now()));
  }

  #expireWaiters(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    const expired: Waiter<T>[] = [];
    for (const waiter of this.#waiters) {
      if (waiter.settled) continue;
      if (waiter.deadline <= now) expired.push(waiter);
      else if (waiter.deadline < next) next = waiter.deadline;
    }
    for (const waiter of expired) {
      this.#settle(waiter);
      this.#counters.timeouts += 1;
      const s = this.stats();
      waiter.reject(
        new NoaError(
          'NOA_POOL_ACQUIRE_TIMEOUT',
          `${this.#name}: acquire timed out (${s.active}/${this.#max} busy, ${s.waiting} waiting, ${s.pending} being created); ` +
            'raise max or acquireTimeoutMs, shorten the work done while holding a resource, or enable leakDetectionMs to find unreleased ones',
        ),
      );
    }
    if (this.#liveWaiters > 0 && Number.isFinite(next)) this.#armTimer(next);
  }

  /** Matches idle resources to waiters, then starts creates for the waiters still uncovered. */
  #dispatch(): void {
    if (this.#closed) return;
    let now = 0;
    while (this.#liveWaiters > this.#validating && this.#idle.length > 0) {
      const entry = this.#idle.pop()!;
      now ||= Date.now();
      const stale = this.#staleReason(entry, now);
      if (stale) {
        this.#destroy(entry, stale);
        continue;
      }
      if (this.#needsValidation(entry, now)) {
        this.#validate(entry);
        continue;
      }
      this.#handOff(entry);
    }
    let uncovered = this.#liveWaiters - this.#pending - this.#validating;
    while (uncovered > 0 && this.#all.size + this.#pending < this.#max) {
      uncovered -= 1;
      this.#create();
    }
  }

  #fillToMin(): void {
    while (!this.#closed && this.#all.size + this.#pending < this.#min) this.#create();
  }

  #create(): void {
    this.#pending += 1;
    let promise: Promise<T>;
    try {
      promise = Promise.resolve(this.#factory.create());
    } catch (error) {
      promise = Promise.reject(error);
    }
    promise.then(
      (resource) => {
        this.#pending -= 1;
        this.#counters.created += 1;
        const now = Date.now();
        // Lifetimes are shortened by up to 2.5% at random so resources created together do not all expire together.
        const lifetime = this.#maxLifetimeMs > 0 ? this.#maxLifetimeMs * (1 - Math.random() * 0.025) : 0;
        const entry: Entry<T> = {
          resource,
          createdAt: now,
          expiresAt: lifetime > 0 ? now + lifetime : Number.POSITIVE_INFINITY,
          lastUsedAt: now,
          generation: this.#generation,
          lease: null,
        };
        this.#all.add(entry);
        if (this.hasListeners('create')) this.emit('create', resource);
        this.#handOff(entry);
      },
      (error: unknown) => {
        this.#pending -= 1;
        this.#counters.createFailures += 1;
        this.#logger.warn({ pool: this.#name, err: error }, 'could not create a resource');
        this.emit('error', error);
        // Fail the oldest waiter now rather than at its timeout: a dead backend should fail fast.
        const waiter = this.#nextWaiter();
        if (waiter) {
          this.#settle(waiter);
          waiter.reject(
            new NoaError(
              'NOA_POOL_CREATE_FAILED',
              `${this.#name}: could not open a new resource (${errorMessage(error)}); check that the backend is reachable`,
              { cause: error },
            ),
          );
        }
        this.#checkDrained();
        this.#dispatch();
      },
    );
  }

  #validate(entry: Entry<T>): void {
    this.#validating += 1;
    let result: Promise<boolean>;
    try {
      result = Promise.resolve(this.#factory.validate!(entry.resource));
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (ok) => this.#validated(entry, ok === true, undefined),
      (error: unknown) => this.#validated(entry, false, error),
    );
  }

  #validated(entry: Entry<T>, ok: boolean, error: unknown): void {
    this.#validating -= 1;
    if (ok) {
      this.#handOff(entry);
      return;
    }
    this.#counters.validationFailures += 1;
    if (error !== undefined) this.emit('error', error);
    this.#destroy(entry, 'invalid');
    this.#dispatch();
  }

  /** A resource became free: give it to the oldest waiter, or park it idle. */
  #handOff(entry: Entry<T>): void {
    if (this.#closed) {
      this.#destroy(entry, 'closed');
      return;
    }
    const now = Date.now();
    const stale = this.#staleReason(entry, now);
    if (stale) {
      this.#destroy(entry, stale);
      this.#fillToMin();
      this.#dispatch();
      return;
    }
    // Just used (or created, or validated): no validation is due for validateAfterIdleMs from now.
    entry.lastUsedAt = now;
    const waiter = this.#nextWaiter();
    if (waiter) {
      this.#settle(waiter);
      waiter.resolve(this.#lend(entry, waiter.stack));
      return;
    }
    this.#idle.push(entry);
  }

  #giveBack(entry: Entry<T>, lease: LeaseImpl<T>, broken: boolean): void {
    if (entry.lease !== lease || !this.#all.has(entry)) return; // force-destroyed by close() meanwhile
    entry.lease = null;
    if (this.#leakDetectionMs > 0) this.#leases.delete(lease);
    if (this.hasListeners('release')) this.emit('release', entry.resource);
    if (broken) {
      this.#destroy(entry, 'broken');
      this.#fillToMin();
      this.#dispatch();
      return;
    }
    this.#handOff(entry);
  }

  #destroy(entry: Entry<T>, reason: DestroyReason): void {
    if (!this.#all.delete(entry)) return;
    this.#counters.destroyed += 1;
    if (entry.lease && this.#leakDetectionMs > 0) this.#leases.delete(entry.lease);
    if (this.hasListeners('destroy')) this.emit('destroy', entry.resource, reason);
    let done: Promise<unknown>;
    try {
      done = Promise.resolve(this.#factory.destroy(entry.resource));
    } catch (error) {
      done = Promise.reject(error);
    }
    const tracked = done.then(
      () => undefined,
      (error: unknown) => {
        this.#logger.warn({ pool: this.#name, err: error }, 'destroying a resource failed');
        this.emit('error', error);
      },
    );
    this.#destroying.add(tracked);
    tracked.then(() => this.#destroying.delete(tracked));
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.#onDrained && this.#all.size === 0 && this.#pending === 0) {
      const resolve = this.#onDrained;
      this.#onDrained = undefined;
      resolve();
    }
  }

  #evict(): void {
    if (this.#closed) return;
    const now = Date.now();
    // Oldest idle first; keep at least `min` open.
    for (let i = 0; i < this.#idle.length; ) {
      const entry = this.#idle[i]!;
      const idleTooLong =
        this.#idleTimeoutMs > 0 &&
        now - entry.lastUsedAt >= this.#idleTimeoutMs &&
        this.#all.size + this.#pending > this.#min;
      const stale = this.#staleReason(entry, now);
      if (stale || idleTooLong) {
        this.#idle.splice(i, 1);
        this.#destroy(entry, stale ?? 'idle');
      } else {
        i += 1;
      }
    }
    this.#fillToMin();
    this.#dispatch();
  }

  #checkLeaks(): void {
    const now = Date.now();
    for (const lease of this.#leases) {
      const heldMs = now - lease.acquiredAt;
      if (lease.leakReported || heldMs < this.#leakDetectionMs) continue;
      lease.leakReported = true;
      this.#counters.leaks += 1;
      const info: LeakInfo = { heldMs, stack: lease.stack ?? '', pool: this.#name };
      this.#logger.warn(info, `a resource has been held for ${heldMs} ms without release (possible leak)`);
      this.emit('leak', info);
    }
  }
}

function captureStack(): string {
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30; // the caller's frames sit below the pool's own
  Error.captureStackTrace(holder, captureStack);
  Error.stackTraceLimit = limit;
  const lines = (holder.stack ?? '').split('\n').slice(1);
  // Start at the caller's code: drop this package's own frames (source or built).
  let first = 0;
  while (first < lines.length - 1 && ownFrame.test(lines[first]!)) first += 1;
  return ['acquired at:', ...lines.slice(first)].join('\n');
}

const ownFrame = /[\\/]connection-pool[\\/](?:src|dist)[\\/]/;

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A generic pool of any resource (`create`, `destroy`, `validate`): FIFO waiters with timeout and
 * AbortSignal, min/max, idle eviction, max lifetime, validation on borrow, leak detection and a
 * graceful `close()`.
 */
export function createResourcePool<T>(options: ResourcePoolOptions<T>): ResourcePool<T> {
  return new ResourcePoolImpl(options);
}
