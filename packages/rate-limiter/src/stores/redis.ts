import { invariant, NoaError } from '@noa/core';
import type { Cluster, Redis } from 'ioredis';
import type { RateLimitStore, StoreOperation, StorePolicy, StoreResult } from '../types.js';
import { RATE_LIMIT_SCRIPTS } from './redis-script.js';

export interface RedisStoreOptions {
  /** Your ioredis client or `Redis.Cluster`; the store never closes it. */
  client: Redis | Cluster;
  /** Prefix of every key. Default `rl`. Keys look like `rl:{<key>}` plus `:log`, `:blk`, `:vio`. */
  prefix?: string;
}

type Reply = [allowed: number, remaining: number, resetMs: number, retryAfterMs: number, blocked: number];

/**
 * Rate-limit state in Redis (or Redis Cluster). Every decision is one call of one Lua script
 * (EVALSHA, falling back to EVAL when the server answers NOSCRIPT, e.g. after a restart or
 * SCRIPT FLUSH) that reads the server's clock, so any number of processes sharing a key admit
 * exactly the limit. A key's Redis keys share the hash tag `{<key>}`, so Cluster keeps them in one slot.
 */
export class RedisStore implements RateLimitStore {
  readonly name = 'redis';
  readonly #client: Redis | Cluster;
  readonly #prefix: string;

  constructor({ client, prefix = 'rl' }: RedisStoreOptions) {
    invariant(
      client !== null && typeof client === 'object' && typeof (client as Redis).evalsha === 'function',
      'redisStore: pass an ioredis client (new Redis(url)) or cluster (new Redis.Cluster(nodes)) as `client`',
    );
    invariant(typeof prefix === 'string', 'redisStore: prefix must be a string');
    this.#client = client;
    this.#prefix = prefix;
  }

  /** The Redis keys of a limiter key: state, block, log (sliding window), violations. */
  keysOf(key: string): [string, string, string, string] {
    const base = `${this.#prefix}:{${key}}`;
    return [base, `${base}:blk`, `${base}:log`, `${base}:vio`];
  }

  apply(key: string, policy: StorePolicy, operation: StoreOperation, amount: number): Promise<StoreResult> {
    const script = RATE_LIMIT_SCRIPTS[policy.algorithm];
    const base = `${this.#prefix}:{${key}}`;
    // Only the keys this call can touch: the log for the sliding window, the violation counter when
    // blocking after violations, all four to reset. Fewer arguments, faster calls.
    const all = operation === 'reset' || operation === 'block';
    const keys = [base, `${base}:blk`];
    if (all || policy.algorithm === 'sliding-window' || policy.blockAfterViolations > 0)
      keys.push(`${base}:log`);
    if (all || policy.blockAfterViolations > 0) keys.push(`${base}:vio`);
    const args = [
      keys.length,
      ...keys,
      operation,
      amount,
      policy.limit,
      policy.windowMs,
      policy.burst,
      policy.blockAfterViolations,
      policy.blockDurationMs,
    ];
    // Plain promise chains rather than async/await: this is the hot path.
    return this.#client.evalsha(script.sha, ...(args as [number])).then(toResult, (error: unknown) => {
      if (!isNoScript(error)) throw error;
      return this.#client.eval(script.source, ...(args as [number])).then(toResult);
    });
  }

  /** The client belongs to the caller; closing the store does not quit it. */
  async close(): Promise<void> {}

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function toResult(value: unknown): StoreResult {
  const reply = value as Reply;
  if (!Array.isArray(reply) || reply.length !== 5) {
    throw new NoaError(
      'NOA_RATE_LIMIT_STORE_REPLY',
      `redisStore: unexpected reply ${JSON.stringify(reply)} from the rate-limit script; is this a Redis >= 5 server?`,
    );
  }
  return {
    allowed: reply[0] === 1,
    remaining: reply[1],
    resetMs: reply[2],
    retryAfterMs: reply[3],
    blocked: reply[4] === 1,
  };
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** A Redis-backed store for `createRateLimiter({ store })`. */
export function redisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options);
}
