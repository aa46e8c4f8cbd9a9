/**
 * The contract every registry backend passes (memory, Redis, Consul fake and live Consul).
 * `create()` returns a new backend on the same shared store each time, like two processes would.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isNoaError } from '@noa/core';
import { uniqueName, waitUntil } from '@noa/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createServiceRegistry,
  type RegistryBackend,
  type ServiceInstance,
  type ServiceRegistry,
} from '../src/index.js';
import { deadPort } from './helpers.js';

export interface ContractTarget {
  create(): RegistryBackend;
  /** Called once after the suite. */
  cleanup?(): Promise<void>;
}

async function healthServer() {
  let status = 200;
  const server: Server = createServer((_req, res) => {
    res.writeHead(status);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`,
    setStatus: (next: number) => {
      status = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A check that is in flight at close keeps its keep-alive socket, and a checker that calls
        // again within the keep-alive timeout would keep it open for ever.
        server.closeAllConnections();
      }),
  };
}

const ids = (list: ServiceInstance[]) => list.map((i) => i.id).sort();

export function registryContract(label: string, target: ContractTarget): void {
  describe(`registry contract: ${label}`, () => {
    const open: ServiceRegistry[] = [];
    const registry = () => {
      const r = createServiceRegistry({ backend: target.create() });
      open.push(r);
      return r;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((r) => r.close()));
    });
    afterAll(async () => {
      await target.cleanup?.();
    });

    it('registers, lists with every field, and deregisters', async () => {
      const r = registry();
      const name = uniqueName('svc');
      const reg = await r.register({
        name,
        address: '127.0.0.1',
        port: 4001,
        tags: ['v1', 'eu'],
        meta: { zone: 'a' },
        weight: 3,
      });
      expect(reg.id).toBe(`${name}-127.0.0.1-4001`);
      const list = await r.instances(name);
      expect(list).toEqual([
        {
          id: reg.id,
          name,
          address: '127.0.0.1',
          port: 4001,
          tags: ['v1', 'eu'],
          meta: { zone: 'a' },
          weight: 3,
          healthy: true,
        },
      ]);
      expect(await r.services()).toContain(name);
      await reg.deregister();
      await reg.deregister(); // idempotent
      expect(await r.instances(name)).toEqual([]);
      expect(await r.services()).not.toContain(name);
    });

    it('re-registering the same id replaces the entry', async () => {
      const r = registry();
      const name = uniqueName('svc');
      await r.register({ name, id: 'a', address: '127.0.0.1', port: 4001, tags: ['old'] });
      await r.register({ name, id: 'a', address: '127.0.0.1', port: 4002, tags: ['new'] });
      const list = await r.instances(name);
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ id: 'a', port: 4002, tags: ['new'] });
    });

    it('a watch from another registry sees registrations, deregistrations and health changes', async () => {
      const a = registry();
      const b = registry();
      const name = uniqueName('svc');
      const seen: string[][] = [];
      const stop = b.watch(name, (list) => seen.push(ids(list)));
      await waitUntil(() => seen.length >= 1, { message: 'initial watch list' });
      expect(seen[0]).toEqual([]);
      const one = await a.register({ name, id: 'one', address: '127.0.0.1', port: 4001 });
      await a.register({ name, id: 'two', address: '127.0.0.1', port: 4002 });
      await waitUntil(() => seen.at(-1)?.length === 2, { message: 'two instances', timeoutMs: 15_000 });
      await one.deregister();
      await waitUntil(() => seen.at(-1)?.join() === 'two', {
        message: 'one deregistered',
        timeoutMs: 15_000,
      });
      // the cache answers once the watch is running
      expect(ids(await b.instances(name))).toEqual(['two']);
      stop();
    });

    it('an instance whose TTL heartbeats stop leaves rotation, and comes back on a heartbeat', async () => {
      const r = registry();
      const backend = r.backend;
      const name = uniqueName('svc');
      // Registered through the backend directly: no heartbeats, as if the process had died.
      await backend.register({
        instance: { id: 'ghost', name, address: '127.0.0.1', port: 4003, tags: [], meta: {}, weight: 1 },
        check: { kind: 'ttl', ttlMs: 400, deregisterAfterMs: 60_000 },
      });
      const healthy: string[][] = [];
      const stop = r.watch(name, (list) => healthy.push(ids(list)), { healthyOnly: true });
      await waitUntil(() => healthy.at(-1)?.join() === 'ghost', { message: 'healthy at first' });
      await waitUntil(() => healthy.at(-1)?.length === 0, { message: 'TTL lapsed', timeoutMs: 10_000 });
      expect((await r.instances(name)).map((i) => [i.id, i.healthy])).toEqual([['ghost', false]]);
      expect(await backend.pass(name, 'ghost', 5_000)).toBe(true);
      await waitUntil(() => healthy.at(-1)?.join() === 'ghost', {
        message: 'healthy again',
        timeoutMs: 10_000,
      });
      expect(await backend.pass(name, 'unknown-instance', 5_000)).toBe(false);
      stop();
    });

    it('TTL heartbeats keep a registration healthy beyond its TTL', async () => {
      const r = registry();
      const name = uniqueName('svc');
      await r.register({ name, address: '127.0.0.1', port: 4004, check: { ttlMs: 300 } });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect((await r.instances(name, { healthyOnly: true })).map((i) => i.port)).toEqual([4004]);
    });

    it('an HTTP check that fails takes the instance out within two intervals, and back when it passes', async () => {
      const health = await healthServer();
      try {
        const r = registry();
        const name = uniqueName('svc');
        const intervalMs = 300;
        await r.register({
          name,
          address: '127.0.0.1',
          port: 4005,
          check: { http: health.url, intervalMs },
        });
        const discovery = r.discover(name);
        await discovery.ready;
        expect(discovery.instances()).toHaveLength(1);
        let leftAt = 0;
        const stop = r.watch(
          name,
          (list) => {
            if (list.length === 0) leftAt ||= performance.now();
          },
          { healthyOnly: true },
        );
        const failedAt = performance.now();
        health.setStatus(500);
        await waitUntil(() => discovery.instances().length === 0, {
          message: 'failing check',
          timeoutMs: 10_000,
        });
        stop();
        expect(leftAt - failedAt).toBeLessThanOrEqual(2 * intervalMs);
        health.setStatus(200);
        await waitUntil(() => discovery.instances().length === 1, {
          message: 'passing again',
          timeoutMs: 10_000,
        });
        discovery.close();
      } finally {
        await health.close();
      }
    });

    it('an instance whose process died (its HTTP check unanswered) leaves rotation within two intervals', async () => {
      const r = registry();
      const name = uniqueName('svc');
      const intervalMs = 500;
      const port = await deadPort();
      const updates: { at: number; healthy: number }[] = [];
      const stop = r.watch(name, (list) => updates.push({ at: performance.now(), healthy: list.length }), {
        healthyOnly: true,
      });
      await waitUntil(() => updates.length >= 1, { message: 'initial watch list' });
      // Registered through the backend directly: nothing on our side answers or runs the check,
      // as if the process died right after registering.
      const registeredAt = performance.now();
      await r.backend.register({
        instance: { id: 'dead', name, address: '127.0.0.1', port, tags: [], meta: {}, weight: 1 },
        check: {
          kind: 'http',
          url: `http://127.0.0.1:${port}/health`,
          intervalMs,
          timeoutMs: 200,
          deregisterAfterMs: 60_000,
        },
      });
      await waitUntil(() => updates.some((u) => u.healthy === 1), { message: 'in rotation at first' });
      await waitUntil(() => updates.at(-1)!.healthy === 0, { message: 'left rotation', timeoutMs: 10_000 });
      expect(updates.at(-1)!.at - registeredAt).toBeLessThanOrEqual(2 * intervalMs);
      stop();
    });

    it('closing a registry deregisters what it registered', async () => {
      const a = registry();
      const b = registry();
      const name = uniqueName('svc');
      await a.register({ name, address: '127.0.0.1', port: 4006, check: { ttlMs: 5_000 } });
      expect(await b.instances(name)).toHaveLength(1);
      await a.close();
      expect(await b.instances(name)).toEqual([]);
      await expect(a.instances(name)).rejects.toMatchObject({ code: 'NOA_REGISTRY_CLOSED' });
    });

    it('stores configuration in KV', async () => {
      const r = registry();
      const base = `${uniqueName('cfg')}/`;
      expect(await r.kv.get(`${base}missing`)).toBeUndefined();
      await r.kv.set(`${base}db/url`, 'postgres://x');
      await r.kv.set(`${base}db/pool`, '10');
      await r.kv.set(`${base}other`, 'ü json {"a":1}');
      expect(await r.kv.get(`${base}db/url`)).toBe('postgres://x');
      expect(await r.kv.list(`${base}db/`)).toEqual({
        [`${base}db/url`]: 'postgres://x',
        [`${base}db/pool`]: '10',
      });
      expect(await r.kv.get(`${base}other`)).toBe('ü json {"a":1}');
      await r.kv.delete(`${base}db/url`);
      expect(await r.kv.get(`${base}db/url`)).toBeUndefined();
    });

    it('rejects bad registrations with clear codes', async () => {
      const r = registry();
      const codeOf = (p: Promise<unknown>) =>
        p.then(
          () => 'none',
          (e) => (isNoaError(e) ? e.code : String(e)),
        );
      expect(await codeOf(r.register({ name: 'bad name!', address: '127.0.0.1', port: 1 }))).toBe(
        'NOA_REGISTRY_INVALID_NAME',
      );
      expect(await codeOf(r.register({ name: 'ok', address: '127.0.0.1', port: 0 }))).toBe(
        'NOA_REGISTRY_INVALID_INSTANCE',
      );
      expect(await codeOf(r.register({ name: 'ok', address: '', port: 80 }))).toBe(
        'NOA_REGISTRY_INVALID_INSTANCE',
      );
      expect(await codeOf(r.register({ name: 'ok', address: 'h', port: 80, weight: 0 }))).toBe(
        'NOA_REGISTRY_INVALID_INSTANCE',
      );
      expect(
        await codeOf(r.register({ name: 'ok', address: 'h', port: 80, check: { http: 'ftp://x' } })),
      ).toBe('NOA_REGISTRY_INVALID_CHECK');
      expect(await codeOf(r.register({ name: 'ok', address: 'h', port: 80, check: { ttlMs: 5 } }))).toBe(
        'NOA_REGISTRY_INVALID_CHECK',
      );
      expect(await codeOf(r.instances('../etc'))).toBe('NOA_REGISTRY_INVALID_NAME');
    });
  });
}
