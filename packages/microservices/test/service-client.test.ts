import { uniqueName } from '@noa/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createServiceClient,
  createServiceRegistry,
  memoryRegistry,
  type ServiceClient,
  type ServiceRegistry,
} from '../src/index.js';
import { deadPort, type Echo, startUpstream, type Upstream } from './helpers.js';

describe('service client (real HTTP upstreams on loopback)', () => {
  let registry: ServiceRegistry;
  const upstreams: Upstream[] = [];
  const clients: ServiceClient[] = [];
  const setup = () => {
    registry = createServiceRegistry({ backend: memoryRegistry() });
    return registry;
  };
  const client = (options: Partial<Parameters<typeof createServiceClient>[0]> & { service: string }) => {
    const c = createServiceClient({ registry, ...options });
    clients.push(c);
    return c;
  };
  const upstream = async (
    ...args: Parameters<typeof startUpstream> extends [unknown, ...infer R] ? R : never
  ) => {
    const u = await startUpstream(registry, ...args);
    upstreams.push(u);
    return u;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await Promise.all(upstreams.splice(0).map((u) => u.kill()));
    await registry.close();
  });

  it('balances round-robin over the registered instances and returns status, headers, body', async () => {
    setup();
    const name = uniqueName('users');
    const ids = [(await upstream(name)).id, (await upstream(name)).id, (await upstream(name)).id];
    const users = client({ service: name, balancer: 'round-robin' });
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await users.request({ method: 'POST', path: '/users', query: { page: 2 }, json: { n: i } });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/json');
      const echo = res.json<Echo>();
      expect(echo.url).toBe('/users?page=2');
      expect(JSON.parse(echo.body)).toEqual({ n: i });
      expect(echo.headers['content-type']).toBe('application/json');
      seen.push(echo.instance);
    }
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(seen.slice(0, 3).sort()).toEqual([...ids].sort());
  });

  it('keeps connections alive: sequential requests reuse a connection instead of opening one each', async () => {
    setup();
    const name = uniqueName('keepalive');
    const u = await upstream(name);
    let connections = 0;
    u.server.on('connection', () => connections++);
    const users = client({ service: name });
    for (let i = 0; i < 50; i++) expect((await users.request({ path: '/k' })).status).toBe(200);
    expect(u.hits).toBe(50);
    // undici may open a second socket while the first is still being marked idle; never one per request.
    expect(connections).toBeLessThanOrEqual(2);
  });

  it('propagates x-request-id and a child W3C traceparent', async () => {
    setup();
    const name = uniqueName('users');
    await upstream(name);
    const users = client({ service: name });
    const parent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const echo = (await users.request({ path: '/x', requestId: 'req-42', traceparent: parent })).json<Echo>();
    expect(echo.headers['x-request-id']).toBe('req-42');
    expect(echo.headers.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(echo.headers.traceparent).not.toBe(parent);
    const fresh = (await users.request({ path: '/x', headers: { traceparent: 'garbage' } })).json<Echo>();
    expect(fresh.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('fails with NOA_SERVICE_NO_INSTANCES when nothing is registered', async () => {
    setup();
    const users = client({ service: uniqueName('none') });
    await expect(users.request({ path: '/' })).rejects.toMatchObject({ code: 'NOA_SERVICE_NO_INSTANCES' });
  });

  it('times out with NOA_SERVICE_TIMEOUT and honours an AbortSignal with NOA_ABORTED', async () => {
    setup();
    const name = uniqueName('slow');
    await upstream(name, (_req, res) => setTimeout(() => res.end('late'), 2_000));
    const users = client({ service: name, timeoutMs: 100, retry: false, outlierDetection: false });
    await expect(users.request({ path: '/' })).rejects.toMatchObject({ code: 'NOA_SERVICE_TIMEOUT' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user gave up')), 50);
    await expect(
      users.request({ path: '/', timeoutMs: 5_000, signal: controller.signal }),
    ).rejects.toMatchObject({
      code: 'NOA_ABORTED',
    });
  });

  it('does not count requests the caller aborted against the instance circuit', async () => {
    setup();
    const name = uniqueName('aborted');
    await upstream(name, (req, res) => {
      if (req.url === '/slow') setTimeout(() => res.end('late'), 1_000);
      else res.end('ok');
    });
    const users = client({
      service: name,
      retry: false,
      outlierDetection: false,
      circuitBreaker: { failureThreshold: 2, halfOpenAfterMs: 60_000 },
    });
    for (let i = 0; i < 4; i++) {
      await expect(users.request({ path: '/slow', signal: AbortSignal.timeout(30) })).rejects.toMatchObject({
        code: 'NOA_ABORTED',
      });
    }
    // Four aborts against a threshold of two: the only instance is still in service.
    const res = await users.request({ path: '/fast' });
    expect(res.status).toBe(200);
    expect(res.text()).toBe('ok');
  });

  it('buffers multi-chunk bodies whole, enforces maxResponseBytes (declared or streamed), times out a stalled body', async () => {
    setup();
    const name = uniqueName('bodies');
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    await upstream(name, (req, res) => {
      if (req.url === '/big') {
        // chunked, in many writes
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let offset = 0; offset < big.length; offset += 64 * 1024)
          res.write(big.subarray(offset, offset + 64 * 1024));
        res.end();
      } else if (req.url === '/declared') {
        res.writeHead(200, { 'content-length': String(big.length) });
        res.end(big);
      } else if (req.url === '/stall') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('x'.repeat(10));
      } else res.end('small');
    });
    const users = client({ service: name, retry: false, outlierDetection: false, timeoutMs: 300 });
    // 3 MB may take longer than the 300 ms stall timeout on a loaded machine: its own deadline.
    const whole = await users.request({ path: '/big', timeoutMs: 10_000 });
    expect(whole.body.equals(big)).toBe(true);
    const limited = client({
      service: name,
      retry: false,
      outlierDetection: false,
      maxResponseBytes: 1024 * 1024,
    });
    await expect(limited.request({ path: '/big' })).rejects.toMatchObject({
      code: 'NOA_SERVICE_RESPONSE_TOO_LARGE',
    });
    await expect(limited.request({ path: '/declared' })).rejects.toMatchObject({
      code: 'NOA_SERVICE_RESPONSE_TOO_LARGE',
    });
    expect((await limited.request({ path: '/ok' })).text()).toBe('small');
    await expect(users.request({ path: '/stall' })).rejects.toMatchObject({
      code: 'NOA_SERVICE_TIMEOUT',
      message: expect.stringContaining('stalled'),
    });
  });

  it('retries idempotent requests on 503 at another instance, but not POST unless told', async () => {
    setup();
    const name = uniqueName('flaky');
    const bad = await upstream(name, (_req, res) => {
      res.writeHead(503);
      res.end('busy');
    });
    const good = await upstream(name);
    const users = client({
      service: name,
      balancer: 'round-robin',
      circuitBreaker: false,
      outlierDetection: false,
    });
    for (let i = 0; i < 4; i++) {
      const res = await users.request({ path: '/get' });
      expect(res.status).toBe(200);
    }
    expect(good.hits).toBe(4);
    const postStatuses: number[] = [];
    for (let i = 0; i < 4; i++)
      postStatuses.push((await users.request({ method: 'POST', path: '/p', body: 'x' })).status);
    expect(postStatuses.sort()).toEqual([200, 200, 503, 503]);
    const before = bad.hits;
    for (let i = 0; i < 4; i++) {
      expect((await users.request({ method: 'POST', path: '/p', body: 'x', idempotent: true })).status).toBe(
        200,
      );
    }
    expect(bad.hits - before).toBeGreaterThan(0); // the 503s were retried elsewhere
  });

  it('retries any method when the connection was refused (the request never left)', async () => {
    setup();
    const name = uniqueName('refused');
    await registry.register({ name, id: 'dead', address: '127.0.0.1', port: await deadPort() });
    const alive = await upstream(name);
    const users = client({ service: name, balancer: 'round-robin', outlierDetection: false });
    for (let i = 0; i < 6; i++)
      expect((await users.request({ method: 'POST', path: '/', body: 'b' })).status).toBe(200);
    expect(alive.hits).toBe(6);
  });

  it('opens a circuit per instance and skips it; all open gives NOA_SERVICE_CIRCUIT_OPEN', async () => {
    setup();
    const name = uniqueName('breaker');
    await upstream(name, (_req, res) => {
      res.writeHead(500);
      res.end();
    });
    const users = client({
      service: name,
      retry: false,
      outlierDetection: false,
      circuitBreaker: { failureThreshold: 3, halfOpenAfterMs: 60_000 },
    });
    const opened: string[] = [];
    users.on('circuit-open', (i) => opened.push(i.id));
    for (let i = 0; i < 3; i++) expect((await users.request({ path: '/' })).status).toBe(500);
    expect(opened).toHaveLength(1);
    await expect(users.request({ path: '/' })).rejects.toMatchObject({ code: 'NOA_SERVICE_CIRCUIT_OPEN' });
    const healthy = await upstream(name);
    await expect(users.request({ path: '/' })).resolves.toMatchObject({ status: 200 });
    expect(healthy.hits).toBe(1);
  });

  it('a success resets the failure count; half-open admits one trial at a time and a good one closes it', async () => {
    setup();
    const name = uniqueName('half-open');
    let failing = true;
    let hold: (() => void) | undefined;
    await upstream(name, (_req, res) => {
      const answer = () => {
        res.writeHead(failing ? 500 : 200);
        res.end();
      };
      if (hold === undefined) answer();
      else {
        const previous = hold;
        hold = () => {
          previous();
          answer();
        };
      }
    });
    const users = client({
      service: name,
      retry: false,
      outlierDetection: false,
      circuitBreaker: { failureThreshold: 2, halfOpenAfterMs: 100 },
    });
    let opened = 0;
    users.on('circuit-open', () => opened++);
    const status = async () => (await users.request({ path: '/' })).status;
    expect(await status()).toBe(500);
    failing = false;
    expect(await status()).toBe(200);
    failing = true;
    expect(await status()).toBe(500); // one failure since the last success: still closed
    expect(opened).toBe(0);
    expect(await status()).toBe(500);
    expect(opened).toBe(1);
    await expect(users.request({ path: '/' })).rejects.toMatchObject({ code: 'NOA_SERVICE_CIRCUIT_OPEN' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    failing = false;
    hold = () => {};
    const trial = users.request({ path: '/' });
    // The trial is in flight: a second request is not admitted while the circuit is half-open.
    await expect(users.request({ path: '/' })).rejects.toMatchObject({ code: 'NOA_SERVICE_CIRCUIT_OPEN' });
    const release = hold;
    hold = undefined;
    release();
    expect((await trial).status).toBe(200);
    expect(await status()).toBe(200);
    expect(await status()).toBe(200);
    expect(opened).toBe(1);
  });

  it('ejects an outlier but never more than maxEjectionPercent of the instances', async () => {
    setup();
    const name = uniqueName('outlier');
    const failing = (_req: unknown, res: import('node:http').ServerResponse) => {
      res.writeHead(502);
      res.end();
    };
    await upstream(name, failing);
    await upstream(name, failing);
    const users = client({
      service: name,
      retry: false,
      circuitBreaker: false,
      outlierDetection: { consecutiveFailures: 2, baseEjectionMs: 60_000, maxEjectionPercent: 50 },
    });
    const ejected: string[] = [];
    users.on('eject', ({ instance }) => ejected.push(instance.id));
    for (let i = 0; i < 8; i++) await users.request({ path: '/' });
    expect(ejected).toHaveLength(1);
    expect(users.instances()).toHaveLength(1);
  });

  it('loses no request when an instance is killed mid-run and healthy ones remain', async () => {
    setup();
    const name = uniqueName('kill');
    const victims = [await upstream(name), await upstream(name), await upstream(name)];
    const users = client({ service: name, balancer: 'least-connections', retry: { attempts: 4 } });
    let done = 0;
    const failures: unknown[] = [];
    const worker = async () => {
      while (done < 600) {
        done++;
        try {
          const res = await users.request({ path: '/work' });
          if (res.status !== 200) failures.push(res.status);
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const killer = (async () => {
      while (done < 150) await new Promise((r) => setTimeout(r, 2));
      await victims[0]!.kill(); // crashed: still registered, connections cut
      while (done < 350) await new Promise((r) => setTimeout(r, 2));
      await victims[1]!.kill();
    })();
    await Promise.all([...Array.from({ length: 8 }, worker), killer]);
    upstreams.splice(0, 2);
    expect(failures).toEqual([]);
    expect(victims[2]!.hits).toBeGreaterThan(200);
  });

  it('validates options and requests', async () => {
    setup();
    expect(() => createServiceClient({ registry, service: 'bad name' })).toThrow(
      expect.objectContaining({ code: 'NOA_REGISTRY_INVALID_NAME' }),
    );
    expect(() => createServiceClient({ registry, service: 'ok', timeoutMs: -1 })).toThrow(
      expect.objectContaining({ code: 'NOA_INVALID_OPTION' }),
    );
    const users = client({ service: 'ok' });
    await expect(users.request({ path: 'no-slash' })).rejects.toMatchObject({
      code: 'NOA_SERVICE_INVALID_REQUEST',
    });
    await expect(users.request({ path: '/', method: 'GE T' })).rejects.toMatchObject({
      code: 'NOA_SERVICE_INVALID_REQUEST',
    });
  });
});
