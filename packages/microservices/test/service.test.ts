import { connect } from 'node:net';
import { uniqueName } from '@noa/testkit';
import Fastify from 'fastify';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createService,
  createServiceClient,
  createServiceRegistry,
  memoryRegistry,
  respond,
  type Service,
  type ServiceRegistry,
} from '../src/index.js';

describe('createService (node:http lifecycle)', () => {
  let registry: ServiceRegistry;
  const services: Service[] = [];
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop()));
    await registry?.close();
  });
  const service = (options: Omit<Parameters<typeof createService>[0], 'registry'>) => {
    const s = createService({ registry, signals: false, ...options });
    services.push(s);
    return s;
  };

  it('serves routes with params, JSON bodies, replies and errors', async () => {
    registry = createServiceRegistry({ backend: memoryRegistry() });
    const svc = service({
      name: uniqueName('users'),
      routes: {
        'GET /users/:id': ({ params, query }) => ({ id: params.id, expand: query.get('expand') }),
        'POST /users': ({ body }) => respond(201, { created: body }, { location: '/users/7' }),
        'DELETE /users/:id': () => undefined,
        'GET /boom': () => {
          throw new Error('kaput');
        },
      },
      maxBodyBytes: 64,
    });
    await svc.start();
    const get = await request(`${svc.url}/users/a%20b?expand=1`, { headers: { 'x-request-id': 'abc' } });
    expect(get.statusCode).toBe(200);
    expect(get.headers['x-request-id']).toBe('abc');
    expect(await get.body.json()).toEqual({ id: 'a b', expand: '1' });
    const post = await request(`${svc.url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ada' }),
    });
    expect(post.statusCode).toBe(201);
    expect(post.headers.location).toBe('/users/7');
    expect(await post.body.json()).toEqual({ created: { name: 'ada' } });
    const del = await request(`${svc.url}/users/1`, { method: 'DELETE' });
    expect(del.statusCode).toBe(204);
    await del.body.dump();
    const statuses = async (url: string, init?: Parameters<typeof request>[1]) => {
      const r = await request(url, init);
      await r.body.dump();
      return r.statusCode;
    };
    expect(await statuses(`${svc.url}/nope`)).toBe(404);
    expect(await statuses(`${svc.url}/users/1`, { method: 'PATCH' })).toBe(405);
    expect(await statuses(`${svc.url}/boom`)).toBe(500);
    expect(await statuses(`${svc.url}/users`, { method: 'POST', body: 'x'.repeat(100) })).toBe(413);
    expect(
      await statuses(`${svc.url}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{',
      }),
    ).toBe(400);
  });

  it('start registers with a health check on /health; stop deregisters, drains and closes', async () => {
    registry = createServiceRegistry({ backend: memoryRegistry() });
    const name = uniqueName('orders');
    let healthy = true;
    const svc = service({
      name,
      tags: ['v2'],
      weight: 2,
      drainMs: 100,
      healthChecks: [
        { name: 'db', check: async () => ({ status: healthy ? 'pass' : 'fail', output: 'db down' }) },
      ],
      routes: { 'GET /slow': () => new Promise((resolve) => setTimeout(() => resolve({ done: true }), 300)) },
    });
    await svc.start();
    const [instance] = await registry.instances(name);
    expect(instance).toMatchObject({
      address: '127.0.0.1',
      port: svc.port,
      tags: ['v2'],
      weight: 2,
      healthy: true,
    });
    const health = await request(`${svc.url}/health`);
    expect(health.statusCode).toBe(200);
    expect(await health.body.json()).toMatchObject({ status: 'pass', draining: false });
    healthy = false;
    const sick = await request(`${svc.url}/health`);
    expect(sick.statusCode).toBe(503);
    await sick.body.dump();
    healthy = true;

    const client = createServiceClient({ registry, service: name });
    const inFlight = client.request({ path: '/slow' });
    await new Promise((r) => setTimeout(r, 50));
    await svc.stop();
    // the request that was running when stop() began still completes
    expect((await inFlight).json()).toEqual({ done: true });
    expect(await registry.instances(name)).toEqual([]);
    expect(svc.server.listening).toBe(false);
    await client.close();
  });

  it('hands unmatched requests to a Fastify app (fallback: app.routing)', async () => {
    registry = createServiceRegistry({ backend: memoryRegistry() });
    const app = Fastify();
    app.get('/from-fastify/:id', async (req) => ({ fastify: (req.params as { id: string }).id }));
    await app.ready();
    const svc = service({
      name: uniqueName('hybrid'),
      routes: { 'GET /native': () => ({ native: true }) },
      fallback: app.routing,
    });
    await svc.start();
    const a = await request(`${svc.url}/native`);
    expect(await a.body.json()).toEqual({ native: true });
    const b = await request(`${svc.url}/from-fastify/9`);
    expect(b.statusCode).toBe(200);
    expect(await b.body.json()).toEqual({ fastify: '9' });
    await app.close();
  });

  it('answers a malformed request target with 400 and keeps serving', async () => {
    registry = createServiceRegistry({ backend: memoryRegistry() });
    const svc = service({ name: uniqueName('strict'), routes: { 'GET /ok': () => ({ ok: true }) } });
    await svc.start();
    const statusLine = (target: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(svc.port, '127.0.0.1', () =>
          socket.write(`GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`),
        );
        let out = '';
        socket.on('data', (d) => {
          out += d;
        });
        socket.on('close', () => resolve(out.split('\r\n')[0]!));
      });
    expect(await statusLine('//[')).toBe('HTTP/1.1 400 Bad Request');
    expect(await statusLine('http://x:99999/')).toBe('HTTP/1.1 400 Bad Request');
    expect(await statusLine('/ok')).toBe('HTTP/1.1 200 OK');
  });

  it('rejects bad options', () => {
    registry = createServiceRegistry({ backend: memoryRegistry() });
    expect(() => createService({ name: 'x', routes: { 'FETCH users': () => 1 } })).toThrow(
      expect.objectContaining({ code: 'NOA_INVALID_OPTION' }),
    );
    expect(() => createService({ name: 'x', port: 70_000 })).toThrow(
      expect.objectContaining({ code: 'NOA_INVALID_OPTION' }),
    );
  });
});
