import { type CircuitBreakerOptions, invariant } from '@noa/core';
import {
  type BusHandler,
  type BusMessage,
  type CacheBus,
  decodeBusMessage,
  encodeBusMessage,
} from '../bus.js';
import { Guard } from '../internal/guard.js';
import type { RedisClient } from '../tiers/redis.js';

export interface RedisBusOptions {
  /** Publishes invalidations (can be the client your redisTier uses). */
  publisher: RedisClient;
  /** A separate connection: a subscribed ioredis client can do nothing else (e.g. `redis.duplicate()`). */
  subscriber: RedisClient;
  /** Channel prefix; the namespace is appended. Default `'noa:cache:bus:'`. */
  channelPrefix?: string;
  /** Longest a publish may take before the message is queued for later. Default 250. */
  timeoutMs?: number;
  /** Messages kept while Redis is unreachable; past this, instances are told to clear instead. Default 1 000. */
  maxQueued?: number;
  breaker?: CircuitBreakerOptions;
}

const RETRY_MS = 500;

/**
 * Cross-instance invalidation over Redis pub/sub with small binary messages. Publishing never
 * fails the caller: while Redis is unreachable messages are queued (in order) and sent when it is
 * back, or replaced by one `clear` when too many piled up. After its subscription drops, an
 * instance may have missed messages, so it clears its local tiers when the connection is ready again.
 */
export function redisBus(options: RedisBusOptions): CacheBus {
  const {
    publisher,
    subscriber,
    channelPrefix = 'noa:cache:bus:',
    timeoutMs = 250,
    maxQueued = 1_000,
    breaker,
  } = options ?? ({} as RedisBusOptions);
  invariant(
    publisher && typeof publisher.publish === 'function',
    'redisBus: publisher must be an ioredis client',
  );
  invariant(
    subscriber && typeof subscriber.subscribe === 'function',
    'redisBus: subscriber must be an ioredis client (a dedicated one, e.g. redis.duplicate())',
  );
  invariant(publisher !== subscriber, 'redisBus: subscriber must be a separate connection from publisher');
  const guard = new Guard({ name: 'redis bus', timeoutMs, breaker });
  const queue: Buffer[] = [];
  let channel = '';
  let instanceId = '';
  let retry: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let closed = false;
  let detach = () => {};

  const flush = async () => {
    while (queue.length > 0 && !closed) {
      try {
        await guard.run('PUBLISH', () => publisher.publish(channel, queue[0]!));
      } catch {
        scheduleRetry();
        return;
      }
      queue.shift();
    }
  };
  const startFlush = () => {
    flushing ??= flush().finally(() => (flushing = undefined));
    return flushing;
  };
  const scheduleRetry = () => {
    if (retry || closed) return;
    retry = setTimeout(() => {
      retry = undefined;
      void startFlush();
    }, RETRY_MS);
    retry.unref();
  };

  return {
    timeoutMs,
    async start(namespace: string, id: string, handler: BusHandler) {
      channel = `${channelPrefix}${namespace}`;
      instanceId = id;
      const channelBytes = Buffer.from(channel);
      const onMessage = (from: Buffer, frame: Buffer) => {
        if (!from.equals(channelBytes)) return;
        let decoded: ReturnType<typeof decodeBusMessage>;
        try {
          decoded = decodeBusMessage(frame);
        } catch {
          return; // Not ours (another program on this channel): nothing to invalidate.
        }
        if (decoded.instanceId !== instanceId) handler.onMessage(decoded.message);
      };
      let dropped = false;
      const onClose = () => {
        dropped = true;
      };
      const onReady = () => {
        if (!dropped) return;
        dropped = false;
        handler.onResync();
        void startFlush();
      };
      const onPublisherReady = () => void startFlush();
      subscriber.on('messageBuffer', onMessage);
      subscriber.on('close', onClose);
      subscriber.on('ready', onReady);
      publisher.on('ready', onPublisherReady);
      detach = () => {
        subscriber.off('messageBuffer', onMessage);
        subscriber.off('close', onClose);
        subscriber.off('ready', onReady);
        publisher.off('ready', onPublisherReady);
      };
      await subscriber.subscribe(channel);
    },
    async publish(message: BusMessage) {
      if (closed || channel === '') return;
      queue.push(encodeBusMessage(instanceId, message));
      if (queue.length > maxQueued) {
        // Too much missed: one clear is smaller than the backlog and just as correct.
        queue.length = 0;
        queue.push(encodeBusMessage(instanceId, { type: 'clear' }));
      }
      await startFlush();
    },
    async close() {
      await flushing;
      closed = true;
      clearTimeout(retry);
      detach();
      if (channel) await subscriber.unsubscribe(channel).catch(() => {});
    },
  };
}
