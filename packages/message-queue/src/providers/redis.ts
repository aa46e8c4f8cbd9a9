import { invariant } from '@noa/core';
import { Redis, type RedisOptions } from 'ioredis';
import { getOrCreate } from '../internal/local-counts.js';
import { PollLoop } from '../internal/poll-loop.js';
import * as lua from '../internal/redis-lua.js';
import type {
  ConsumeOptions,
  Delivery,
  OutgoingMessage,
  ProviderCapabilities,
  ProviderConsumer,
  QueueProvider,
  RawDeadLetter,
} from '../provider.js';
import type { QueueStats } from '../types.js';

export interface RedisProviderOptions {
  /** A redis:// URL, ioredis options, or your ioredis client (which close() leaves open). */
  connection: string | RedisOptions | Redis;
  /** Key prefix. Default 'noa:mq'. */
  prefix?: string;
  /** How long a completed jobId still deduplicates publishes. Default 3 600 000 (1 h). */
  dedupeWindowMs?: number;
  /**
   * Lock expiries (the worker died or hung) after which a job goes to the dead-letter queue instead
   * of running again: protects the fleet from a job that kills every worker. Default 3.
   */
  maxStalls?: number;
  /** Longest an idle worker blocks before re-checking delayed jobs and expired locks. Default 5 000. */
  pollMs?: number;
}

const capabilities: ProviderCapabilities = {
  dedupe: true,
  delay: true,
  priority: true,
  deadLetterAdmin: true,
  schedules: true,
};

const KEY_NAMES = [
  'wait',
  'prio',
  'active',
  'delayed',
  'dead',
  'jobs',
  'pri',
  'stalls',
  'meta',
  'notify',
  'done',
  'dedupe',
  'progress',
] as const;

type Scripts = {
  [K in
    | 'mqPublish'
    | 'mqFetch'
    | 'mqAck'
    | 'mqRetry'
    | 'mqDead'
    | 'mqRelease'
    | 'mqExtend'
    | 'mqRetryDead'
    | 'mqPurgeDead']: (...args: (string | number)[]) => Promise<unknown>;
};
type Client = Redis & Scripts;

interface Fetched {
  id: string;
  body: string;
}

function defineScripts(client: Redis): Client {
  const scripts: [keyof Scripts, string][] = [
    ['mqPublish', lua.PUBLISH],
    ['mqFetch', lua.FETCH],
    ['mqAck', lua.ACK],
    ['mqRetry', lua.RETRY],
    ['mqDead', lua.DEAD],
    ['mqRelease', lua.RELEASE],
    ['mqExtend', lua.EXTEND],
    ['mqRetryDead', lua.RETRY_DEAD],
    ['mqPurgeDead', lua.PURGE_DEAD],
  ];
  for (const [name, script] of scripts) {
    if (!(name in client)) client.defineCommand(name, { numberOfKeys: KEY_NAMES.length, lua: script });
  }
  return client as Client;
}

/**
 * Redis provider: Lua-atomic moves between lists and sorted sets (see the README for why not
 * streams). Workers block on a wake-up list instead of polling; locks are extended while handlers
 * run and expired locks are recovered by the next fetch.
 */
export function redisProvider(options: RedisProviderOptions): QueueProvider {
  const { prefix = 'noa:mq', dedupeWindowMs = 3_600_000, maxStalls = 3, pollMs = 5_000 } = options;
  invariant(
    options?.connection,
    'redisProvider: pass connection (a redis:// URL, options or an ioredis client)',
    'NOA_MQ_INVALID_OPTION',
  );
  invariant(
    Number.isInteger(maxStalls) && maxStalls >= 0,
    'redisProvider: maxStalls must be an integer >= 0',
    'NOA_MQ_INVALID_OPTION',
  );
  invariant(
    Number.isFinite(pollMs) && pollMs >= 10,
    'redisProvider: pollMs must be >= 10',
    'NOA_MQ_INVALID_OPTION',
  );
  const owned = !(options.connection instanceof Redis);
  let base: Redis | undefined = owned ? undefined : (options.connection as Redis);
  const blocking = new Set<Redis>();
  const client = (): Client => {
    if (!base) {
      base =
        typeof options.connection === 'string'
          ? new Redis(options.connection)
          : new Redis(options.connection as RedisOptions);
      // ioredis reconnects by itself; an outage surfaces as failed commands, which callers handle.
      base.on('error', () => {});
    }
    return defineScripts(base);
  };
  const keyCache = new Map<string, string[]>();
  const keys = (queue: string): string[] =>
    getOrCreate(keyCache, queue, () => KEY_NAMES.map((name) => `${prefix}:{${queue}}:${name}`));

  return {
    name: 'redis',
    capabilities: () => capabilities,

    async publish(queue: string, messages: OutgoingMessage[]) {
      const args: (string | number)[] = [Date.now()];
      for (const m of messages) args.push(m.id, m.body, Math.round(m.delayMs), m.priority, m.dedupe ? 1 : 0);
      await client().mqPublish(...keys(queue), ...args);
    },

    consume(queue: string, consume: ConsumeOptions): ProviderConsumer {
      const c = client();
      const k = keys(queue);
      const { lockMs } = consume;
      let nextWakeAt = 0;
      let waiter: Redis | undefined;
      let closing = false;
      /** Jobs the ack of the previous job already took (and locked), handed out by the next fetch. */
      const prefetched: Fetched[] = [];
      const parse = (out: string[]): Fetched[] => {
        const now = Date.now();
        const wakeTimes = [out[0], out[1]].filter((v) => v).map(Number);
        nextWakeAt = Math.min(now + pollMs, ...wakeTimes);
        const fetched: Fetched[] = [];
        for (let i = 2; i < out.length; i += 2) fetched.push({ id: out[i]!, body: out[i + 1]! });
        return fetched;
      };
      const delivery = ({ id, body }: Fetched): Delivery => ({
        messageId: id,
        body,
        ack: async () => {
          // One job in hand at most: enough to save a round trip per job, never hoarding locks.
          const take = closing || prefetched.length > 0 ? 0 : 1;
          const out = (await c.mqAck(
            ...k,
            id,
            Date.now(),
            dedupeWindowMs,
            take,
            lockMs,
            maxStalls,
          )) as string[];
          if (take > 0) prefetched.push(...parse(out));
        },
        retry: async (next, delayMs) => {
          await c.mqRetry(...k, id, next, Math.round(delayMs), Date.now());
        },
        dead: async (next) => {
          await c.mqDead(...k, id, next, Date.now());
        },
        release: async () => {
          await c.mqRelease(...k, id);
        },
        progress: async (value) => {
          await Promise.all([
            c.hset(k[12]!, id, JSON.stringify(value)),
            c.mqExtend(...k, Date.now() + lockMs, id),
          ]);
        },
      });
      const loop = new PollLoop<Fetched>({
        concurrency: consume.concurrency,
        onError: consume.onError,
        deliver: (message) => consume.onDelivery(delivery(message)),
        fetch: async (max) => {
          if (prefetched.length > 0) return prefetched.splice(0, max);
          return parse((await c.mqFetch(...k, Date.now(), max, lockMs, maxStalls)) as string[]);
        },
        idle: async (signal) => {
          // A dedicated connection blocks on the wake-up list; publishes push a marker there.
          if (!waiter) {
            waiter = c.duplicate({ commandTimeout: undefined });
            waiter.on('error', () => {});
            blocking.add(waiter);
            signal.addEventListener('abort', () => waiter?.disconnect(), { once: true });
          }
          const seconds = Math.max(0.01, (nextWakeAt - Date.now()) / 1000);
          await waiter.blpop(k[9]!, seconds.toFixed(3));
        },
        extend: {
          everyMs: Math.max(250, Math.floor(lockMs / 3)),
          run: async (messages) => {
            const ids = [...messages, ...prefetched].map((m) => m.id);
            await c.mqExtend(...k, Date.now() + lockMs, ...ids);
          },
        },
      });
      return {
        async close() {
          closing = true;
          await loop.close();
          // Taken but never started: straight back to the front of the queue.
          for (const { id } of prefetched.splice(0)) await c.mqRelease(...k, id).catch(consume.onError);
          if (waiter) {
            waiter.disconnect();
            blocking.delete(waiter);
          }
        },
      };
    },

    async stats(queue: string): Promise<QueueStats> {
      const k = keys(queue);
      const results = await client()
        .multi()
        .llen(k[0]!)
        .zcard(k[1]!)
        .zcard(k[2]!)
        .zcard(k[3]!)
        .zcard(k[4]!)
        .hmget(k[8]!, 'completed', 'failed')
        .exec();
      const value = (i: number) => {
        const [error, result] = results![i]!;
        if (error) throw error;
        return result;
      };
      const [completed, failed] = value(5) as (string | null)[];
      return {
        waiting: Number(value(0)) + Number(value(1)),
        active: Number(value(2)),
        delayed: Number(value(3)),
        completed: Number(completed ?? 0),
        failed: Number(failed ?? 0),
        dead: Number(value(4)),
      };
    },

    async listDead(queue: string, limit: number): Promise<RawDeadLetter[]> {
      const k = keys(queue);
      const c = client();
      const entries = await c.zrange(k[4]!, 0, limit - 1, 'WITHSCORES');
      if (entries.length === 0) return [];
      const ids = entries.filter((_, i) => i % 2 === 0);
      const [bodies, stalls] = await Promise.all([c.hmget(k[5]!, ...ids), c.hmget(k[7]!, ...ids)]);
      return ids.map((id, i) => ({
        id,
        body: bodies[i] ?? '',
        failedAt: Number(entries[i * 2 + 1]),
        ...(stalls[i] && Number(stalls[i]) > maxStalls
          ? { reason: `lock expired ${stalls[i]} times: the worker died or hung while running it` }
          : {}),
      }));
    },

    async retryDead(queue: string, id: string, rewrite: (body: string) => string) {
      const k = keys(queue);
      const c = client();
      const body = await c.hget(k[5]!, id);
      if (body === null || (await c.zscore(k[4]!, id)) === null) return false;
      return (await c.mqRetryDead(...k, id, rewrite(body))) === 1;
    },

    async purgeDead(queue: string) {
      return Number(await client().mqPurgeDead(...keys(queue)));
    },

    async claimTick(name: string, tickMs: number) {
      const ok = await client().set(`${prefix}:tick:${name}:${tickMs}`, '1', 'PX', 3_600_000, 'NX');
      return ok === 'OK';
    },

    async close() {
      for (const conn of blocking) conn.disconnect();
      blocking.clear();
      if (owned && base) await base.quit().catch(() => base?.disconnect());
      base = undefined;
    },
  };
}
