import { createQueueManager, memoryProvider } from '@noa/message-queue';
import { uniqueName, waitUntil } from '@noa/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type BusEvent, createEventBus, createServiceRegistry, memoryRegistry } from '../src/index.js';

describe('event bus over @noa/message-queue (memory provider)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  const manager = () => {
    const mq = createQueueManager({ provider: memoryProvider() });
    cleanups.push(() => mq.close());
    return mq;
  };

  it('fans out one copy per subscriber group; workers within a group compete', async () => {
    const mq = manager();
    const bus = createEventBus({ queue: mq, prefix: uniqueName('ev') });
    cleanups.push(() => bus.close());
    const email: string[] = [];
    const analyticsA: string[] = [];
    const analyticsB: string[] = [];
    await bus.subscribe<{ id: number }>('user.created', 'email', (e) => void email.push(`${e.payload.id}`));
    await bus.subscribe<{ id: number }>(
      'user.created',
      'analytics',
      (e) => void analyticsA.push(`${e.payload.id}`),
      {
        concurrency: 2,
      },
    );
    await bus.subscribe<{ id: number }>(
      'user.created',
      'analytics',
      (e) => void analyticsB.push(`${e.payload.id}`),
    );
    for (let i = 0; i < 20; i++) {
      const { groups } = await bus.publish('user.created', { id: i });
      expect(groups).toEqual(['analytics', 'email']);
    }
    await waitUntil(() => email.length === 20 && analyticsA.length + analyticsB.length === 20, {
      message: 'all copies delivered',
    });
    expect(email.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(new Set([...analyticsA, ...analyticsB]).size).toBe(20);
  });

  it('redelivers a failed event to its group with the same id; publishing an id twice delivers once', async () => {
    const mq = manager();
    const bus = createEventBus({
      queue: mq,
      prefix: uniqueName('ev'),
      groups: { 'order.paid': ['billing'] },
    });
    cleanups.push(() => bus.close());
    // published before anyone subscribed: the declared group keeps it
    await bus.publish('order.paid', { order: 1 }, { id: 'evt-1' });
    await bus.publish('order.paid', { order: 1 }, { id: 'evt-1' });
    const seen: BusEvent[] = [];
    await bus.subscribe('order.paid', 'billing', (e) => {
      seen.push(e);
      if (e.attempt === 1) throw new Error('transient');
    });
    await waitUntil(() => seen.length === 2, { message: 'retry', timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.map((e) => [e.id, e.attempt])).toEqual([
      ['evt-1', 1],
      ['evt-1', 2],
    ]);
  });

  it('shares subscriber groups between processes through the registry KV', async () => {
    const mq = manager();
    const registry = createServiceRegistry({ backend: memoryRegistry() });
    cleanups.push(() => registry.close());
    const prefix = uniqueName('ev');
    const subscriberSide = createEventBus({ queue: mq, prefix, registry });
    const publisherSide = createEventBus({ queue: mq, prefix, registry, groupCacheMs: 0 });
    cleanups.push(() => subscriberSide.close());
    const got: unknown[] = [];
    await subscriberSide.subscribe('invoice.sent', 'audit', (e) => void got.push(e.payload));
    expect((await publisherSide.publish('invoice.sent', { n: 1 })).groups).toEqual(['audit']);
    await waitUntil(() => got.length === 1, { message: 'delivered via KV-discovered group' });
  });

  it('rejects bad names', async () => {
    const bus = createEventBus({ queue: manager() });
    await expect(bus.publish('bad name', {})).rejects.toMatchObject({ code: 'NOA_EVENT_BUS_INVALID_NAME' });
    await expect(bus.subscribe('ok', '', () => {})).rejects.toMatchObject({
      code: 'NOA_EVENT_BUS_INVALID_NAME',
    });
    expect(() => createEventBus({ queue: {} as never })).toThrow(
      expect.objectContaining({ code: 'NOA_INVALID_OPTION' }),
    );
  });
});
