import { randomUUID } from 'node:crypto';
import { invariant, type Logger, noopLogger } from '@noa/core';
import type { ServiceRegistry } from './registry.js';

/**
 * The part of `@noa/message-queue`'s QueueManager the bus needs; any queue manager with these two
 * methods works (a structural type, so this package does not load message-queue itself).
 */
export interface EventQueue {
  publish(
    queue: string,
    data: unknown,
    options?: { jobId?: string; attempts?: number },
  ): Promise<{ id: string }>;
  process(
    queue: string,
    handler: (job: { id: string; data: unknown; attempt: number }) => unknown,
    options?: { concurrency?: number },
  ): { close(): Promise<void> };
}

export interface BusEvent<T = unknown> {
  /** Unique per publish (or the id you passed): redeliveries carry the same id, for idempotent handlers. */
  id: string;
  name: string;
  payload: T;
  publishedAt: number;
  /** Delivery attempt of this group's copy, 1 first. */
  attempt: number;
  headers: Record<string, string>;
}

export interface EventSubscription {
  readonly event: string;
  readonly group: string;
  close(): Promise<void>;
}

export interface EventBusOptions {
  /** A `@noa/message-queue` manager (any provider). */
  queue: EventQueue;
  /** Queue name prefix. Default 'events'. */
  prefix?: string;
  /** Groups that receive an event even before they subscribe in this process: `{ 'user.created': ['email'] }`. */
  groups?: Record<string, string[]>;
  /** Shares subscriber groups between processes through the registry's KV. */
  registry?: ServiceRegistry;
  /** How long a publisher trusts its list of groups from KV. Default 1 000. */
  groupCacheMs?: number;
  /** Delivery attempts per group before the copy goes to the dead-letter queue. Default 5. */
  attempts?: number;
  logger?: Logger;
}

export interface EventBus {
  /** Delivers one copy to every subscriber group; returns the event id and the groups it went to. */
  publish<T>(
    event: string,
    payload: T,
    options?: { id?: string; headers?: Record<string, string> },
  ): Promise<{ id: string; groups: string[] }>;
  /** Competing consumers within `group`: each event reaches one subscriber of each group. */
  subscribe<T>(
    event: string,
    group: string,
    handler: (event: BusEvent<T>) => unknown,
    options?: { concurrency?: number },
  ): Promise<EventSubscription>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$/;

interface Envelope {
  id: string;
  name: string;
  payload: unknown;
  publishedAt: number;
  headers: Record<string, string>;
}

/**
 * Publish/subscribe over a work queue: each subscriber group has its own queue per event, a publish
 * writes one job to each group's queue (fan-out), and the group's workers compete for it. Delivery
 * is the queue's: at least once, with retries and a dead-letter queue.
 */
export function createEventBus(options: EventBusOptions): EventBus {
  const {
    queue,
    prefix = 'events',
    groups = {},
    registry,
    groupCacheMs = 1_000,
    attempts = 5,
    logger = noopLogger,
  } = options;
  invariant(
    queue && typeof queue.publish === 'function' && typeof queue.process === 'function',
    'createEventBus: queue must be a @noa/message-queue manager (createQueueManager({ provider }))',
  );
  invariant(NAME.test(prefix), 'createEventBus: prefix must be letters, digits, ".", "_" or "-"');
  const check = (value: unknown, what: string): string => {
    invariant(
      typeof value === 'string' && NAME.test(value),
      `event bus: ${what} must be 1-100 letters, digits, ".", "_" or "-", got ${JSON.stringify(value)}`,
      'NOA_EVENT_BUS_INVALID_NAME',
    );
    return value;
  };
  const local = new Map<string, Set<string>>();
  const cached = new Map<string, { groups: string[]; at: number }>();
  const subscriptions = new Set<EventSubscription>();
  const kvPrefix = (event: string) => `noa/event-bus/${prefix}/${event}/`;
  let closed = false;

  const groupsOf = async (event: string): Promise<string[]> => {
    const out = new Set([...(groups[event] ?? []), ...(local.get(event) ?? [])]);
    if (registry) {
      let entry = cached.get(event);
      if (!entry || Date.now() - entry.at > groupCacheMs) {
        const keys = Object.keys(await registry.kv.list(kvPrefix(event)));
        entry = { groups: keys.map((k) => k.slice(kvPrefix(event).length)), at: Date.now() };
        cached.set(event, entry);
      }
      for (const group of entry.groups) out.add(group);
    }
    return [...out].sort();
  };

  const bus: EventBus = {
    async publish(event, payload, publishOptions = {}) {
      invariant(!closed, 'the event bus is closed', 'NOA_EVENT_BUS_CLOSED');
      check(event, 'event');
      const envelope: Envelope = {
        id: publishOptions.id ?? randomUUID(),
        name: event,
        payload,
        publishedAt: Date.now(),
        headers: publishOptions.headers ?? {},
      };
      const targets = await groupsOf(event);
      if (targets.length === 0) logger.debug({ event }, 'event bus: no subscriber group, event dropped');
      // jobId per group: publishing the same event id twice does not deliver twice.
      await Promise.all(
        targets.map((group) =>
          queue.publish(`${prefix}.${event}.${group}`, envelope, {
            jobId: `${envelope.id}.${group}`,
            attempts,
          }),
        ),
      );
      return { id: envelope.id, groups: targets };
    },
    async subscribe(event, group, handler, subscribeOptions = {}) {
      invariant(!closed, 'the event bus is closed', 'NOA_EVENT_BUS_CLOSED');
      check(event, 'event');
      check(group, 'group');
      invariant(
        typeof handler === 'function',
        'subscribe: handler must be a function',
        'NOA_EVENT_BUS_INVALID_NAME',
      );
      let set = local.get(event);
      if (!set) local.set(event, (set = new Set()));
      set.add(group);
      if (registry) await registry.kv.set(`${kvPrefix(event)}${group}`, String(Date.now()));
      const worker = queue.process(
        `${prefix}.${event}.${group}`,
        (job) => {
          const envelope = job.data as Envelope;
          return handler({ ...envelope, attempt: job.attempt } as BusEvent<never>);
        },
        subscribeOptions,
      );
      const subscription: EventSubscription = {
        event,
        group,
        close: async () => {
          subscriptions.delete(subscription);
          await worker.close();
        },
      };
      subscriptions.add(subscription);
      return subscription;
    },
    async close() {
      closed = true;
      await Promise.all([...subscriptions].map((s) => s.close()));
    },
    [Symbol.asyncDispose]: () => bus.close(),
  };
  return bus;
}
