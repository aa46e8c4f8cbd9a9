import { randomBytes } from 'node:crypto';
import {
  type CircuitBreakerOptions,
  type CompressionOptions,
  compressedSerializer,
  invariant,
  type Serializer,
} from '@noa/core';
import type { Cluster, Redis } from 'ioredis';
import { claimTier } from '../internal/claim-tier.js';
import { decodeEntry, encodeEntry } from '../internal/envelope.js';
import { Guard } from '../internal/guard.js';
import { ReadBatcher } from '../internal/read-batcher.js';
import type { CacheTier, DistributedLock, StoredEntry, TagVersionStore, TierContext } from '../tier.js';

export type RedisClient = Redis | Cluster;

export interface RedisTierOptions {
  /** An ioredis client or Cluster. The tier never closes it: it is yours. */
  client: RedisClient;
  /** Shown in stats and events. Default `'redis'`. */
  name?: string;
  /** Prefix of every key, before the namespace. Default `'noa:cache:'`. */
  keyPrefix?: string;
  /** Overrides the cache's serializer for this tier (e.g. msgpack or protobuf from @noa/core). */
  serializer?: Serializer;
  /** Compress values above a threshold. Default gzip above 1 KiB; `false` to store them as they are. */
  compression?: CompressionOptions | false;
  /** Longest any Redis call may take before it counts as failed. Default 250. */
  timeoutMs?: number;
  /** The circuit breaker around Redis. Default: opens after 3 consecutive failures, retries after 1 s. */
  breaker?: CircuitBreakerOptions;
  /** Clock, for tests. */
  now?: () => number;
}

export interface RedisTier extends CacheTier {
  readonly kind: 'shared';
  readonly tagVersions: TagVersionStore;
  readonly lock: DistributedLock;
}

// Release and extend only when the lease is still ours: compare the token and act in one step.
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";
const EXTEND =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0";
const STATE_CODE = { closed: 0, 'half-open': 1, open: 2 } as const;

const isCluster = (client: RedisClient): client is Cluster =>
  (client as Cluster).isCluster === true || typeof (client as Cluster).nodes === 'function';
const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

/**
 * The shared tier on Redis (single node or Cluster through ioredis). Entries are one binary string
 * each (metadata header + serialized value) with a PX expiry at the end of the grace period. Tag
 * versions live in one hash, leases of the distributed lock in their own keys. Every call is bounded
 * by `timeoutMs` and a circuit breaker, so an unreachable Redis fails fast instead of stalling reads.
 */
export function redisTier(options: RedisTierOptions): RedisTier {
  const {
    client,
    name = 'redis',
    keyPrefix = 'noa:cache:',
    compression = { algorithm: 'gzip', thresholdBytes: 1024 },
    timeoutMs = 250,
    breaker,
    now = Date.now,
  } = options ?? ({} as RedisTierOptions);
  invariant(
    client && typeof client.getBuffer === 'function',
    'redisTier: client must be an ioredis Redis or Cluster instance',
  );
  invariant(typeof keyPrefix === 'string', 'redisTier: keyPrefix must be a string');
  const guard = new Guard({ name: `redis tier "${name}"`, timeoutMs, breaker });
  let context: TierContext | undefined;
  let serializer: Serializer;
  let base = '';
  const entryKey = (key: string) => `${base}k:${key}`;
  const lockKey = (key: string) => `${base}l:${key}`;
  const tagsKey = () => `${base}t`;
  const decode = (bytes: Buffer | null) => (bytes === null ? undefined : decodeEntry(bytes, serializer));
  // Reads of one tick go out as one MGET (a Cluster refuses MGET across slots: one GET each there;
  // enable ioredis' autopipelining to batch those on the wire).
  const reads = isCluster(client)
    ? undefined
    : new ReadBatcher<Buffer | null, StoredEntry | undefined>(
        (keys) =>
          guard.run(keys.length === 1 ? 'GET' : 'MGET', () =>
            keys.length === 1 ? client.getBuffer(keys[0]!).then((bytes) => [bytes]) : client.mgetBuffer(keys),
          ),
        decode,
      );
  const ready = () => {
    invariant(
      context,
      `redis tier "${name}" is not attached to a cache yet; pass it in createCache({ tiers })`,
    );
  };

  /** Deletes every key matching `pattern` on every master (SCAN + UNLINK, in batches). */
  const unlinkMatching = async (pattern: string) => {
    const nodes = isCluster(client) ? client.nodes('master') : [client];
    await Promise.all(
      nodes.map(async (node) => {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
          cursor = next;
          // In a Cluster, keys of one scan batch live on this node but may span slots: one UNLINK each.
          if (keys.length) await Promise.all(keys.map((key) => node.unlink(key)));
        } while (cursor !== '0');
      }),
    );
  };

  const tagVersions: TagVersionStore = {
    async get(tags, deadline) {
      ready();
      const values = await guard.run(
        'HMGET tag versions',
        () => client.hmget(tagsKey(), ...tags),
        timeoutMs,
        deadline,
      );
      return values.map((value) => (value === null ? 0 : Number(value)));
    },
    async bump(tags) {
      ready();
      return guard.run('HINCRBY tag versions', () =>
        Promise.all(tags.map((tag) => client.hincrby(tagsKey(), tag, 1))),
      );
    },
  };

  const lock: DistributedLock = {
    async acquire(key, leaseMs, deadline) {
      ready();
      const token = randomBytes(12).toString('base64url');
      const result = await guard.run(
        'SET NX lease',
        () => client.set(lockKey(key), token, 'PX', Math.ceil(leaseMs), 'NX'),
        timeoutMs,
        deadline,
      );
      return result === 'OK' ? token : undefined;
    },
    async extend(key, token, leaseMs) {
      const result = await guard.run('extend lease', () =>
        client.eval(EXTEND, 1, lockKey(key), token, Math.ceil(leaseMs)),
      );
      return result === 1;
    },
    async release(key, token) {
      await guard.run('release lease', () => client.eval(RELEASE, 1, lockKey(key), token));
    },
  };

  return {
    name,
    kind: 'shared',
    timeoutMs,
    tagVersions,
    lock,
    attach(ctx) {
      claimTier(context, name);
      context = ctx;
      base = `${keyPrefix}${ctx.namespace}:`;
      const inner = options.serializer ?? ctx.serializer;
      serializer = compression ? compressedSerializer(inner, compression) : inner;
      const gauge = ctx.metrics.gauge({
        name: 'cache_tier_circuit_state',
        help: 'Circuit breaker of a remote cache tier: 0 closed, 1 half-open, 2 open',
        labelNames: ['namespace', 'tier'],
      });
      const labels = { namespace: ctx.namespace, tier: name };
      gauge.set(0, labels);
      guard.breaker.on('open', ({ error }) => {
        gauge.set(STATE_CODE.open, labels);
        ctx.logger.warn(
          { err: error, tier: name },
          'cache tier unreachable: circuit open, serving from memory',
        );
      });
      guard.breaker.on('half-open', () => gauge.set(STATE_CODE['half-open'], labels));
      guard.breaker.on('close', () => {
        gauge.set(STATE_CODE.closed, labels);
        ctx.logger.info({ tier: name }, 'cache tier reachable again: circuit closed');
      });
    },
    get(key) {
      ready();
      if (reads !== undefined) return reads.load(entryKey(key));
      return guard.run('GET', () => client.getBuffer(entryKey(key))).then(decode);
    },
    async set(key, entry: StoredEntry) {
      ready();
      const bytes = encodeEntry(entry, serializer);
      if (entry.staleUntil === 0) {
        await guard.run('SET', () => client.set(entryKey(key), bytes));
        return;
      }
      const ttlMs = Math.ceil(entry.staleUntil - now());
      if (ttlMs <= 0) await guard.run('UNLINK', () => client.unlink(entryKey(key)));
      else await guard.run('SET', () => client.set(entryKey(key), bytes, 'PX', ttlMs));
    },
    async delete(keys) {
      ready();
      if (keys.length === 0) return;
      await guard.run('UNLINK', async () => {
        // A Cluster refuses multi-key commands across slots: one UNLINK per key there.
        if (isCluster(client) && keys.length > 1)
          await Promise.all(keys.map((key) => client.unlink(entryKey(key))));
        else await client.unlink(...keys.map(entryKey));
      });
    },
    async clear() {
      ready();
      // The tag versions stay: entries written later are compared with them, and they only grow.
      // A scan of a big namespace legitimately takes longer than one command.
      await guard.run(
        'SCAN + UNLINK',
        () => unlinkMatching(`${escapeGlob(base)}k:*`),
        Math.max(timeoutMs, 30_000),
      );
    },
    stats: () => ({ circuit: guard.breaker.state }),
    async close() {},
  };
}
