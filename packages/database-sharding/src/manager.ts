import { randomUUID } from 'node:crypto';
import {
  createSingleFlight,
  invariant,
  type Logger,
  NoaError,
  noopLogger,
  TypedEventEmitter,
} from '@noa/core';
import { type AnyShardStrategy, createStrategy } from './create-strategy.js';
import { MIGRATIONS } from './internal/migrations.js';
import { adaptPool, type PoolAdapter, runOn, type ShardPool, type SqlDialect } from './pool.js';
import type { StrategySpec } from './strategy.js';

/** Free-form JSON about a shard stored with the map: connection details, region, weight... */
export type ShardInfo = Record<string, unknown>;

/** One published version of the shard map. */
export interface ShardMapSnapshot {
  version: number;
  strategy: AnyShardStrategy;
  spec: StrategySpec;
  /** Every shard of the strategy, with the information published for it (`{}` when none). */
  shards: Readonly<Record<string, ShardInfo>>;
  publishedAt: Date | undefined;
}

export interface ShardManagerOptions {
  /** The metadata database: a pg/mysql2 pool, PGlite, or a @noa/connection-pool pool. */
  metadata: ShardPool | object;
  /** Several shard maps can live in one metadata database (default 'default'). */
  name?: string;
  /** SQL dialect of the metadata database; detected for pg, mysql2 and PGlite, else 'postgres'. */
  dialect?: SqlDialect;
  /** How often watchers check for a new version (default 5000 ms). */
  pollIntervalMs?: number;
  logger?: Logger;
}

export interface PublishOptions {
  /** The version this publish replaces; a different current version fails with NOA_SHARDING_VERSION_CONFLICT. */
  expectedVersion?: number;
  /** Information stored per shard (must name shards of the strategy). */
  shardInfo?: Readonly<Record<string, ShardInfo>>;
}

export type ShardManagerEvents = {
  /** A newer version was loaded. */
  change: [snapshot: ShardMapSnapshot, previous: ShardMapSnapshot | undefined];
  /** A background check failed; the current map stays in use. */
  error: [error: unknown];
};

export interface ShardManager extends TypedEventEmitter<ShardManagerEvents> {
  readonly name: string;
  /** The last loaded version, if any. */
  readonly current: ShardMapSnapshot | undefined;
  /** Creates the tables (`migrations/*.sql`, idempotent). */
  migrate(): Promise<void>;
  /** Stores a strategy as the next version and makes it current here. */
  publish(strategy: AnyShardStrategy | StrategySpec, options?: PublishOptions): Promise<ShardMapSnapshot>;
  /** Loads the latest version (NOA_SHARDING_NO_SHARD_MAP when nothing was published). */
  load(): Promise<ShardMapSnapshot>;
  /** Loads one version (for audits and rollbacks: publish(old.spec) makes it current again). */
  get(version: number): Promise<ShardMapSnapshot>;
  versions(): Promise<{ version: number; publishedAt: Date | undefined }[]>;
  /** Checks the stored version now; loads and emits `change` when it moved. Returns whether it did. */
  refresh(): Promise<boolean>;
  /** Calls `listener` on every new version and polls while anyone watches. Returns the unsubscribe. */
  watch(listener: (snapshot: ShardMapSnapshot) => void): () => void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface MetadataRow {
  version: unknown;
  publish_id: string;
  strategy: string;
  published_at: unknown;
}

class Manager extends TypedEventEmitter<ShardManagerEvents> implements ShardManager {
  readonly name: string;
  #current: ShardMapSnapshot | undefined;
  readonly #db: PoolAdapter;
  readonly #dialect: SqlDialect;
  readonly #pollIntervalMs: number;
  readonly #logger: Logger;
  readonly #flight = createSingleFlight();
  readonly #watchers = new Set<(snapshot: ShardMapSnapshot) => void>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: ShardManagerOptions) {
    super();
    invariant(
      options?.metadata,
      'createShardManager needs `metadata`: the pool of the database holding the shard map',
    );
    this.name = options.name ?? 'default';
    invariant(
      typeof this.name === 'string' && this.name.length > 0 && this.name.length <= 200,
      'name must be 1 to 200 characters',
    );
    this.#db = adaptPool(options.metadata, options.dialect);
    this.#dialect = options.dialect ?? this.#db.dialect ?? 'postgres';
    this.#pollIntervalMs = options.pollIntervalMs ?? 5_000;
    invariant(
      Number.isFinite(this.#pollIntervalMs) && this.#pollIntervalMs >= 10,
      `pollIntervalMs must be at least 10, got ${this.#pollIntervalMs}`,
    );
    this.#logger = options.logger ?? noopLogger;
  }

  get current(): ShardMapSnapshot | undefined {
    return this.#current;
  }

  /** Runs SQL written with $1..$n placeholders in either dialect. */
  async #sql(sql: string, params: unknown[] = []) {
    this.#assertOpen();
    const text = this.#dialect === 'mysql' ? sql.replace(/\$\d+/g, '?') : sql;
    return (await runOn(this.#db, text, params, 'write')).rows;
  }

  #assertOpen() {
    if (this.#closed) throw new NoaError('NOA_SHARDING_CLOSED', `Shard manager "${this.name}" is closed.`);
  }

  async migrate(): Promise<void> {
    for (const migration of MIGRATIONS) await this.#sql(migration.sql);
  }

  async publish(
    strategy: AnyShardStrategy | StrategySpec,
    options: PublishOptions = {},
  ): Promise<ShardMapSnapshot> {
    const spec = 'toSpec' in strategy ? strategy.toSpec() : strategy;
    const built = createStrategy(spec);
    const info = options.shardInfo ?? {};
    for (const shard of Object.keys(info)) {
      invariant(built.shards.includes(shard), `shardInfo names "${shard}", which the strategy does not use`);
    }
    const latest = await this.#latestVersion();
    const expected = options.expectedVersion ?? latest;
    if (expected !== latest) {
      throw new NoaError(
        'NOA_SHARDING_VERSION_CONFLICT',
        `Shard map "${this.name}" is at version ${latest}, not the expected ${expected}; load() the current map and publish again.`,
      );
    }
    const version = latest + 1;
    const publishId = randomUUID();
    // Shards first, under a fresh publish id; the metadata row then makes the version visible.
    const values: unknown[] = [];
    const tuples = built.shards.map((shard, i) => {
      const n = values.length;
      values.push(this.name, publishId, shard, i, JSON.stringify(info[shard] ?? {}));
      return `($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5})`;
    });
    await this.#sql(
      `INSERT INTO noa_shard_mapping (map_name, publish_id, shard_id, shard_order, info) VALUES ${tuples.join(', ')}`,
      values,
    );
    try {
      await this.#sql(
        'INSERT INTO noa_shard_metadata (map_name, version, publish_id, strategy) VALUES ($1, $2, $3, $4)',
        [this.name, version, publishId, JSON.stringify(spec)],
      );
    } catch (error) {
      await this.#sql('DELETE FROM noa_shard_mapping WHERE map_name = $1 AND publish_id = $2', [
        this.name,
        publishId,
      ]).catch(() => {});
      const code = (error as { code?: unknown; errno?: unknown }).code;
      if (code === '23505' || code === 'ER_DUP_ENTRY' || (error as { errno?: unknown }).errno === 1062) {
        throw new NoaError(
          'NOA_SHARDING_VERSION_CONFLICT',
          `Another publisher stored version ${version} of shard map "${this.name}" first; load() it and publish again.`,
          { cause: error },
        );
      }
      throw error;
    }
    this.#logger.info(
      { map: this.name, version, type: spec.type, shards: built.shards.length },
      'shard map published',
    );
    const snapshot = await this.get(version);
    this.#adopt(snapshot);
    return snapshot;
  }

  async #latestVersion(): Promise<number> {
    const rows = await this.#sql(
      'SELECT MAX(version) AS version FROM noa_shard_metadata WHERE map_name = $1',
      [this.name],
    );
    const value = rows[0]?.version;
    return value === null || value === undefined ? 0 : Number(value);
  }

  async #snapshot(row: MetadataRow | undefined, what: string): Promise<ShardMapSnapshot> {
    if (!row) {
      throw new NoaError(
        'NOA_SHARDING_NO_SHARD_MAP',
        `Shard map "${this.name}" has no ${what}; publish() a strategy first (and migrate() once to create the tables).`,
      );
    }
    const spec = JSON.parse(row.strategy) as StrategySpec;
    const strategy = createStrategy(spec);
    const mapping = await this.#sql(
      'SELECT shard_id, info FROM noa_shard_mapping WHERE map_name = $1 AND publish_id = $2 ORDER BY shard_order',
      [this.name, row.publish_id],
    );
    const shards: Record<string, ShardInfo> = {};
    for (const m of mapping)
      shards[m.shard_id as string] = m.info ? (JSON.parse(m.info as string) as ShardInfo) : {};
    const missing = strategy.shards.filter((s) => !(s in shards));
    invariant(
      missing.length === 0,
      `shard map "${this.name}" version ${row.version} lacks mapping rows for ${missing.join(', ')}; the metadata tables were edited by hand`,
      'NOA_SHARDING_CORRUPT_SHARD_MAP',
    );
    const publishedAt =
      row.published_at instanceof Date
        ? row.published_at
        : row.published_at
          ? new Date(String(row.published_at))
          : undefined;
    return Object.freeze({
      version: Number(row.version),
      strategy,
      spec,
      shards: Object.freeze(shards),
      publishedAt,
    });
  }

  async get(version: number): Promise<ShardMapSnapshot> {
    invariant(Number.isInteger(version) && version > 0, `version must be a positive integer, got ${version}`);
    const rows = await this.#sql(
      'SELECT version, publish_id, strategy, published_at FROM noa_shard_metadata WHERE map_name = $1 AND version = $2',
      [this.name, version],
    );
    return this.#snapshot(rows[0] as MetadataRow | undefined, `version ${version}`);
  }

  async load(): Promise<ShardMapSnapshot> {
    return this.#flight.do('load', async () => {
      const rows = await this.#sql(
        'SELECT version, publish_id, strategy, published_at FROM noa_shard_metadata WHERE map_name = $1 ORDER BY version DESC LIMIT 1',
        [this.name],
      );
      const snapshot = await this.#snapshot(rows[0] as MetadataRow | undefined, 'published version');
      this.#adopt(snapshot);
      return this.#current!;
    });
  }

  async versions(): Promise<{ version: number; publishedAt: Date | undefined }[]> {
    const rows = await this.#sql(
      'SELECT version, published_at FROM noa_shard_metadata WHERE map_name = $1 ORDER BY version',
      [this.name],
    );
    return rows.map((r) => ({
      version: Number(r.version),
      publishedAt: r.published_at instanceof Date ? r.published_at : undefined,
    }));
  }

  async refresh(): Promise<boolean> {
    const latest = await this.#latestVersion();
    if (latest === 0 || latest === this.#current?.version) return false;
    const before = this.#current?.version;
    await this.load();
    return this.#current?.version !== before;
  }

  /** Makes a snapshot current when it is newer, and tells the watchers. */
  #adopt(snapshot: ShardMapSnapshot) {
    const previous = this.#current;
    if (previous && previous.version >= snapshot.version) return;
    this.#current = snapshot;
    this.#logger.info(
      { map: this.name, version: snapshot.version, previous: previous?.version },
      'shard map version loaded',
    );
    for (const watcher of this.#watchers) watcher(snapshot);
    this.emit('change', snapshot, previous);
  }

  watch(listener: (snapshot: ShardMapSnapshot) => void): () => void {
    this.#assertOpen();
    this.#watchers.add(listener);
    if (!this.#timer) {
      this.#timer = setInterval(() => {
        this.refresh().catch((error) => {
          this.#logger.warn(
            { map: this.name, err: error },
            'shard map check failed; keeping the current version',
          );
          this.emit('error', error);
        });
      }, this.#pollIntervalMs);
      this.#timer.unref();
    }
    return () => {
      this.#watchers.delete(listener);
      if (this.#watchers.size === 0) this.#stopPolling();
    };
  }

  #stopPolling() {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watchers.clear();
    this.#stopPolling();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * A shard map in a metadata database: versioned strategies (`publish`), loaded by every process
 * (`load`), with watchers told of new versions. The metadata pool stays the caller's to close.
 */
export function createShardManager(options: ShardManagerOptions): ShardManager {
  return new Manager(options);
}
