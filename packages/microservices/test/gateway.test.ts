import { createHash, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { createMemoryMetrics, type Logger } from '@noa/core';
import { uniqueName, waitUntil } from '@noa/testkit';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createGateway, type Gateway, type GatewayOptions } from '../src/gateway.js';
import { createServiceRegistry, memoryRegistry, type ServiceRegistry } from '../src/index.js';
import { type Echo, startUpstream, type Upstream, type UpstreamHandler } from './helpers.js';

const SECRET = 'a-very-long-test-secret-of-32-bytes-or-more!';

describe('gateway (real upstreams on loopback)', () => {
  let registry: ServiceRegistry;
  let gateway: Gateway | undefined;
  let base = '';
  const upstreams: Upstream[] = [];
  const extraClose: (() => Promise<void> | void)[] = [];
  let users = '';
  let orders = '';

  beforeEach(async () => {
    registry = createServiceRegistry({ backend: memoryRegistry() });
    users = uniqueName('users');
    orders = uniqueName('orders');
    upstreams.push(
      await startUpstream(registry, users),
      await startUpstream(registry, users),
      await startUpstream(registry, orders),
    );
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    for (const fn of extraClose.splice(0)) await fn();
    await Promise.all(upstreams.splice(0).map((u) => u.kill()));
    await registry.close();
  });
  const start = async (options: Omit<GatewayOptions, 'registry'>) => {
    gateway = createGateway({ registry, ...options });
    ({ url: base } = await gateway.listen({ port: 0 }));
    return gateway;
  };
  const call = async (path: string, init: Parameters<typeof request>[1] = {}) => {
    const res = await request(`${base}${path}`, init);
    const text = await res.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return {
      status: res.statusCode,
      headers: res.headers,
      text,
      json: json as Echo & Record<string, unknown>,
    };
  };

  it('proxies with prefix stripping, query, methods, forwarded headers and hop-by-hop stripping', async () => {
    await start({
      routes: [
        { prefix: '/api/v1/users', service: users, stripPrefix: true, methods: ['GET', 'POST'] },
        { prefix: '/api/v1/orders', service: orders },
      ],
    });
    // node:http, because undici will not send a custom Connection header
    const r = await new Promise<{ status: number; headers: Record<string, unknown>; json: Echo }>(
      (resolve, reject) => {
        const req = httpRequest(
          `${base}/api/v1/users/42/profile?x=1&y=%20z`,
          {
            headers: {
              'x-request-id': 'rid-1',
              connection: 'x-private',
              'x-private': 'secret',
              'proxy-authorization': 'Basic abc',
              'x-forwarded-for': '6.6.6.6',
            },
          },
          (res) => {
            let text = '';
            res.on('data', (d) => {
              text += d;
            });
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    expect(r.status).toBe(200);
    expect(r.json.url).toBe('/42/profile?x=1&y=%20z');
    const h = r.json.headers;
    expect(h['x-private']).toBeUndefined();
    expect(h['proxy-authorization']).toBeUndefined();
    expect(h['x-forwarded-for']).toBe('127.0.0.1'); // untrusted client value replaced
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe(new URL(base).host);
    expect(h['x-forwarded-prefix']).toBe('/api/v1/users');
    expect(h.forwarded).toBe(`for=127.0.0.1;proto=http;host="${new URL(base).host}"`);
    expect(h['x-request-id']).toBe('rid-1');
    expect(h.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(r.headers['x-request-id']).toBe('rid-1');
    expect((await call('/api/v1/orders/7')).json.url).toBe('/api/v1/orders/7');
    const del = await call('/api/v1/users/1', { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe('GET, POST');
    expect((await call('/api/v1/usersX')).status).toBe(404);
    expect((await call('/nothing')).status).toBe(404);
  });

  it('keeps upstream connections alive and sends an incoming W3C traceparent on as a child span', async () => {
    const connections: number[] = [];
    upstreams[2]!.server.on('connection', () => connections.push(1));
    await start({ routes: [{ prefix: '/o', service: orders }] });
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const spans = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const r = await call('/o/x', { headers: { traceparent: parent, tracestate: 'vendor=1' } });
      expect(r.status).toBe(200);
      const sent = r.json.headers.traceparent!;
      expect(sent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
      expect(r.json.headers.tracestate).toBe('vendor=1');
      spans.add(sent.slice(36, 52));
    }
    expect(spans.has('00f067aa0ba902b7')).toBe(false);
    expect(spans.size).toBe(10);
    // Ten sequential requests, one upstream connection.
    expect(connections).toHaveLength(1);
  });

  it('with trustProxy, appends to the forwarding headers of the proxy in front', async () => {
    await start({ trustProxy: true, routes: [{ prefix: '/t', service: users }] });
    const r = await call('/t/x', {
      headers: {
        'x-forwarded-for': '203.0.113.7',
        forwarded: 'for=203.0.113.7;proto=https',
        'x-forwarded-proto': 'https',
      },
    });
    expect(r.json.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(r.json.headers['x-forwarded-proto']).toBe('https');
    expect(r.json.headers.forwarded).toBe(
      `for=203.0.113.7;proto=https, for=127.0.0.1;proto=http;host="${new URL(base).host}"`,
    );
  });

  it('strips hop-by-hop headers from the upstream response', async () => {
    const hop = uniqueName('hop');
    upstreams.push(
      await startUpstream(registry, hop, (_req, res) => {
        res.writeHead(200, {
          connection: 'x-upstream-private',
          'x-upstream-private': '1',
          'x-kept': 'yes',
          'proxy-authenticate': 'Basic',
        });
        res.end('ok');
      }),
    );
    await start({ routes: [{ prefix: '/hop', service: hop }] });
    const r = await call('/hop/x');
    expect(r.status).toBe(200);
    expect(r.text).toBe('ok');
    expect(r.headers['x-kept']).toBe('yes');
    expect(r.headers['x-upstream-private']).toBeUndefined();
    expect(r.headers['proxy-authenticate']).toBeUndefined();
  });

  it('streams large request and response bodies without buffering them whole', async () => {
    const big = uniqueName('big');
    upstreams.push(
      await startUpstream(registry, big, (req, res) => {
        const hash = createHash('sha256');
        let size = 0;
        req.on('data', (chunk: Buffer) => {
          size += chunk.length;
          hash.update(chunk);
        });
        req.on('end', () => {
          res.writeHead(200, {
            'content-type': 'application/octet-stream',
            'x-upload-sha': hash.digest('hex'),
            'x-upload-size': String(size),
          });
          // 8 MiB down, in chunks
          let left = 128;
          const chunk = Buffer.alloc(64 * 1024, 7);
          const pump = () => {
            while (left > 0) {
              left--;
              if (!res.write(chunk)) return res.once('drain', pump);
            }
            res.end();
          };
          pump();
        });
      }),
    );
    await start({ routes: [{ prefix: '/big', service: big }], limits: { bodyBytes: 32 * 1024 * 1024 } });
    const payload = randomBytes(6 * 1024 * 1024);
    const res = await request(`${base}/big`, { method: 'POST', body: payload });
    expect(res.headers['x-upload-size']).toBe(String(payload.length));
    expect(res.headers['x-upload-sha']).toBe(createHash('sha256').update(payload).digest('hex'));
    let received = 0;
    for await (const chunk of res.body) received += (chunk as Buffer).length;
    expect(received).toBe(8 * 1024 * 1024);
  });

  it('retries a 503 on another instance; a client that leaves aborts the upstream; an upstream dying mid-body cuts the response', async () => {
    const flaky = uniqueName('flaky');
    let upstreamClosed = 0;
    upstreams.push(
      await startUpstream(registry, flaky, (_req, res) => {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('unavailable');
      }),
      await startUpstream(registry, flaky, (req, res) => {
        if (req.url === '/f/hang') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first chunk');
          res.on('close', () => upstreamClosed++);
          return;
        }
        if (req.url === '/f/die') {
          res.writeHead(200, { 'content-length': '1000' });
          res.write('x'.repeat(100), () => res.socket?.destroy());
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      }),
    );
    await start({
      routes: [{ prefix: '/f', service: flaky, retry: { attempts: 2 }, circuitBreaker: false }],
    });
    for (let i = 0; i < 6; i++) {
      const r = await call('/f/x');
      expect(r.status).toBe(200);
      expect(r.text).toBe('ok');
    }
    // The client reads the first chunk and goes away: the gateway aborts the upstream request.
    await new Promise<void>((resolve, reject) => {
      let tries = 0;
      const attempt = () => {
        const req = httpRequest(`${base}/f/hang`, (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            if (++tries < 10) attempt();
            else reject(new Error('never reached the hanging instance'));
            return;
          }
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => {});
        req.end();
      };
      attempt();
    });
    await waitUntil(() => upstreamClosed === 1, { timeoutMs: 5_000 });
    // An upstream that dies after part of the body: the client sees a cut response, never a hang.
    const cut = await new Promise<string>((resolve) => {
      const req = httpRequest(`${base}/f/die`, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          resolve(`status ${res.statusCode}`);
          return;
        }
        res.on('data', () => {});
        res.on('end', () => resolve('complete'));
        res.on('error', () => resolve('cut'));
        res.on('aborted', () => resolve('cut'));
      });
      req.on('error', () => resolve('cut'));
      req.end();
    });
    expect(cut).toBe('cut');
    expect((await call('/f/x')).status).toBe(200);
  });

  it('rejects traversal, malformed URLs and oversized input with clear 4xx, and keeps serving', async () => {
    await start({
      routes: [
        { prefix: '/api/v1/users', service: users },
        { prefix: '/admin', service: orders },
      ],
      limits: { bodyBytes: 1_000, urlBytes: 500, headerBytes: 4_096 },
    });
    const raw = (target: string, extra = '') =>
      new Promise<string>((resolve) => {
        const { port } = new URL(base);
        const socket = connect(Number(port), '127.0.0.1', () =>
          socket.write(`GET ${target} HTTP/1.1\r\nhost: x\r\n${extra}connection: close\r\n\r\n`),
        );
        let out = '';
        socket.on('data', (d) => {
          out += d;
        });
        socket.on('close', () => resolve(out.split('\r\n')[0]!));
      });
    expect(await raw('/api/v1/users/../../admin')).toBe('HTTP/1.1 400 Bad Request');
    expect(await raw('/api/v1/users/%2e%2e/%2e%2e/admin')).toBe('HTTP/1.1 400 Bad Request');
    expect(await raw('/api/v1/users/..%2f..%2fadmin')).toBe('HTTP/1.1 400 Bad Request');
    expect(await raw('/api/v1/users/%zz')).toBe('HTTP/1.1 400 Bad Request');
    expect(await raw('/api/v1/users/%00')).toBe('HTTP/1.1 400 Bad Request');
    expect(await raw(`/api/v1/users/${'a'.repeat(600)}`)).toBe('HTTP/1.1 414 URI Too Long');
    expect(await raw('/api/v1/users/1', `x-big: ${'b'.repeat(8_000)}\r\n`)).toBe(
      'HTTP/1.1 431 Request Header Fields Too Large',
    );
    expect((await call('/api/v1/users/1', { method: 'POST', body: 'x'.repeat(2_000) })).status).toBe(413);
    // chunked, no content-length: stopped while streaming
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/api/v1/users/1`, { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('y'.repeat(300));
      req.end();
    });
    expect(chunked).toBe(413);
    expect((await call('/api/v1/users/./1')).json.url).toBe('/api/v1/users/1');
    expect((await call('/api/v1/users/ok')).status).toBe(200);
  });

  it("a streamed body over the limit, or a client leaving mid-upload, is not the upstream instance's failure", async () => {
    await start({
      routes: [
        {
          prefix: '/up',
          service: users,
          retry: false,
          circuitBreaker: { failureThreshold: 2, halfOpenAfterMs: 60_000 },
        },
      ],
      limits: { bodyBytes: 1_000 },
    });
    const { port } = new URL(base);
    const head = 'POST /up/x HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n';
    const raw = (data: string, leave: boolean) =>
      new Promise<string>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(data);
          // The client goes away once the upload reached the upstream.
          if (leave) setTimeout(() => socket.destroy(), 50);
        });
        let out = '';
        socket.on('data', (d) => {
          out += d;
        });
        socket.on('error', () => {});
        socket.on('close', () => resolve(out.split('\r\n')[0]!));
      });
    const big = 'y'.repeat(2_000);
    // One chunk over the limit, sent with the head: the limit trips while the upstream connection opens.
    for (let i = 0; i < 4; i++)
      expect(await raw(`${head}${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`, false)).toBe(
        'HTTP/1.1 413 Payload Too Large',
      );
    for (let i = 0; i < 5; i++) expect(await raw(`${head}a\r\n0123456789\r\n`, true)).toBe('');
    // Nine failed uploads against a threshold of two (two instances): both circuits are still closed.
    for (let i = 0; i < 4; i++) expect((await call('/up/x')).status).toBe(200);
  });

  it('JWT (shared secret): verified claims go upstream, forged copies are stripped, bad tokens get 401', async () => {
    await start({
      routes: [
        {
          prefix: '/secure',
          service: users,
          auth: {
            jwt: {
              secret: SECRET,
              issuer: 'noa',
              audience: 'api',
              claimsToHeaders: { sub: 'x-user-id', role: 'x-user-role' },
            },
          },
        },
        { prefix: '/open', service: users },
      ],
    });
    const key = new TextEncoder().encode(SECRET);
    const sign = (claims: Record<string, unknown>, tweak: (j: SignJWT) => SignJWT = (j) => j) =>
      tweak(
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer('noa')
          .setAudience('api')
          .setIssuedAt()
          .setExpirationTime('5m'),
      ).sign(key);
    const ok = await call('/secure/me', {
      headers: { authorization: `Bearer ${await sign({ sub: 'u1', role: 'admin' })}`, 'x-user-id': 'forged' },
    });
    expect(ok.status).toBe(200);
    expect(ok.json.headers['x-user-id']).toBe('u1');
    expect(ok.json.headers['x-user-role']).toBe('admin');
    // a route without auth still strips the claim headers
    const open = await call('/open/x', { headers: { 'x-user-id': 'forged', 'x-user-role': 'root' } });
    expect(open.json.headers['x-user-id']).toBeUndefined();
    expect(open.json.headers['x-user-role']).toBeUndefined();

    const statusOf = async (token: string) =>
      (await call('/secure/me', { headers: { authorization: `Bearer ${token}` } })).status;
    expect((await call('/secure/me')).status).toBe(401);
    expect((await call('/secure/me')).headers['www-authenticate']).toBe('Bearer');
    const none = new UnsecuredJWT({ sub: 'u1' })
      .setIssuer('noa')
      .setAudience('api')
      .setExpirationTime('5m')
      .encode();
    expect(await statusOf(none)).toBe(401);
    expect(
      await statusOf(
        await sign({ sub: 'u1' }, (j) => j.setExpirationTime(Math.floor(Date.now() / 1000) - 60)),
      ),
    ).toBe(401);
    expect(
      await statusOf(await sign({ sub: 'u1' }, (j) => j.setNotBefore(Math.floor(Date.now() / 1000) + 3_600))),
    ).toBe(401);
    expect(await statusOf(await sign({ sub: 'u1' }, (j) => j.setIssuer('evil')))).toBe(401);
    expect(await statusOf(await sign({ sub: 'u1' }, (j) => j.setAudience('other')))).toBe(401);
    const wrongKey = await new SignJWT({ sub: 'u1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('noa')
      .setAudience('api')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(`${SECRET}-other`));
    expect(await statusOf(wrongKey)).toBe(401);
  });

  it('JWT verification cache: a cached token still stops working at its exp', async () => {
    await start({
      routes: [{ prefix: '/s', service: users, auth: { jwt: { secret: SECRET, clockToleranceSec: 0 } } }],
    });
    const token = await new SignJWT({ sub: 'u1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(new TextEncoder().encode(SECRET));
    const get = () => call('/s/x', { headers: { authorization: `Bearer ${token}` } });
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(200); // from the cache
    await new Promise((r) => setTimeout(r, 2_100));
    expect((await get()).status).toBe(401);
  });

  it('JWT (JWKS): verifies RS256, follows key rotation, rejects algorithm confusion', async () => {
    const first = await generateKeyPair('RS256', { extractable: true });
    const second = await generateKeyPair('RS256', { extractable: true });
    const keys = [{ ...(await exportJWK(first.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }];
    let fetches = 0;
    const jwks = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    extraClose.push(() => new Promise<void>((resolve) => jwks.close(() => resolve())));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    await start({
      routes: [
        {
          prefix: '/secure',
          service: users,
          auth: { jwt: { jwksUrl, issuer: 'noa', audience: 'api', jwksCooldownMs: 0 } },
        },
      ],
    });
    const sign = (privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'], kid: string) =>
      new SignJWT({ sub: `user-${kid}` })
        .setProtectedHeader({ alg: 'RS256', kid })
        .setIssuer('noa')
        .setAudience('api')
        .setExpirationTime('5m')
        .sign(privateKey);
    const get = async (token: string) => call('/secure/x', { headers: { authorization: `Bearer ${token}` } });
    expect((await get(await sign(first.privateKey, 'k1'))).json.headers['x-user-id']).toBe('user-k1');
    expect((await get(await sign(first.privateKey, 'k1'))).status).toBe(200);
    expect(fetches).toBe(1); // cached
    keys.push({ ...(await exportJWK(second.publicKey)), kid: 'k2', alg: 'RS256', use: 'sig' });
    const rotated = await get(await sign(second.privateKey, 'k2'));
    expect(rotated.status).toBe(200);
    expect(rotated.json.headers['x-user-id']).toBe('user-k2');
    // HS256 signed with the RSA public key as the HMAC secret: the classic confusion attack
    const pem = (await exportJWK(first.publicKey)).n!;
    const confused = await new SignJWT({ sub: 'attacker' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer('noa')
      .setAudience('api')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(pem));
    expect((await get(confused)).status).toBe(401);
    expect(() =>
      createGateway({
        registry,
        routes: [{ prefix: '/x', service: users, auth: { jwt: { jwksUrl, algorithms: ['HS256'] } } }],
      }),
    ).toThrow(expect.objectContaining({ code: 'NOA_INVALID_OPTION' }));
    expect(() =>
      createGateway({
        registry,
        routes: [{ prefix: '/x', service: users, auth: { jwt: { secret: 'short' } } }],
      }),
    ).toThrow(expect.objectContaining({ code: 'NOA_INVALID_OPTION' }));
  });

  it('API keys: accepted keys pass with the consumer name, others get 401, the key is not forwarded', async () => {
    await start({
      routes: [
        {
          prefix: '/k',
          service: users,
          auth: { apiKey: { keys: { 'key-aaaaaaaaaaaaaaaa': 'mobile-app' } } },
        },
      ],
    });
    const ok = await call('/k/x', {
      headers: { 'x-api-key': 'key-aaaaaaaaaaaaaaaa', 'x-consumer-id': 'forged' },
    });
    expect(ok.status).toBe(200);
    expect(ok.json.headers['x-consumer-id']).toBe('mobile-app');
    expect(ok.json.headers['x-api-key']).toBeUndefined();
    expect((await call('/k/x', { headers: { 'x-api-key': 'key-aaaaaaaaaaaaaaab' } })).status).toBe(401);
    expect((await call('/k/x')).status).toBe(401);
  });

  it('rate limits per route with standard headers (memory store)', async () => {
    await start({
      routes: [{ prefix: '/rl', service: users, rateLimit: { limit: 3, windowMs: 60_000, key: 'ip' } }],
    });
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof call>> | undefined;
    for (let i = 0; i < 5; i++) {
      last = await call('/rl/x');
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers['x-ratelimit-limit']).toBe('3');
        expect(last.headers['x-ratelimit-remaining']).toBe('2');
        expect(String(last.headers.ratelimit)).toMatch(/r=2/);
        expect(String(last.headers['ratelimit-policy'])).toMatch(/q=3;w=60/);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('rate limits by user (the verified subject, else the IP) or by a key function', async () => {
    await start({
      routes: [
        {
          prefix: '/me',
          service: users,
          auth: { jwt: { secret: SECRET } },
          rateLimit: { limit: 2, windowMs: 60_000, key: 'user' },
        },
        {
          prefix: '/tenant',
          service: users,
          rateLimit: { limit: 1, windowMs: 60_000, key: (req) => String(req.headers['x-tenant']) },
        },
      ],
    });
    const token = (sub: string) =>
      new SignJWT({ sub })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(SECRET));
    const [alice, bob] = [await token('alice'), await token('bob')];
    const as = async (t: string) =>
      (await call('/me/x', { headers: { authorization: `Bearer ${t}` } })).status;
    // Same IP, separate budgets per user.
    expect([await as(alice), await as(alice), await as(alice)]).toEqual([200, 200, 429]);
    expect([await as(bob), await as(bob), await as(bob)]).toEqual([200, 200, 429]);
    const tenant = async (t: string) => (await call('/tenant/x', { headers: { 'x-tenant': t } })).status;
    expect([await tenant('a'), await tenant('a'), await tenant('b')]).toEqual([200, 429, 200]);
  });

  it('retries and circuit breaking through the service client: a killed instance costs no request; none left gives 503', async () => {
    await start({ routes: [{ prefix: '/u', service: users, retry: { attempts: 3 } }] });
    const results: number[] = [];
    for (let i = 0; i < 20; i++) {
      if (i === 5) await upstreams[0]!.kill();
      results.push((await call('/u/x')).status);
    }
    expect(results.every((s) => s === 200)).toBe(true);
    await upstreams[1]!.kill();
    upstreams.splice(0, 2);
    const down = await call('/u/x');
    expect([502, 503]).toContain(down.status);
    expect(down.json.code).toMatch(/^NOA_SERVICE_/);
    await registry.close();
    registry = createServiceRegistry({ backend: memoryRegistry() });
  });

  it("a route's circuit breaker opens on a failing service: 503 with Retry-After, no upstream call", async () => {
    const broken = uniqueName('broken');
    const failing = await startUpstream(registry, broken, (_req, res) => {
      res.writeHead(500);
      res.end('boom');
    });
    upstreams.push(failing);
    await start({
      routes: [
        {
          prefix: '/b',
          service: broken,
          retry: false,
          circuitBreaker: { failureThreshold: 2, halfOpenAfterMs: 30_000 },
        },
      ],
    });
    expect((await call('/b/x')).status).toBe(500);
    expect((await call('/b/x')).status).toBe(500);
    const open = await call('/b/x');
    expect(open.status).toBe(503);
    expect(open.json.code).toBe('NOA_SERVICE_CIRCUIT_OPEN');
    expect(Number(open.headers['retry-after'])).toBeGreaterThan(0);
    expect(failing.hits).toBe(2);
  });

  it('aggregates calls in parallel with partial results and per-call errors', async () => {
    // Upstreams that answer after 600 ms each: one after the other would take 1.2 s.
    const [slowUsers, slowOrders] = [uniqueName('slow-users'), uniqueName('slow-orders')];
    const slow: UpstreamHandler = (req, res, upstream) =>
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ instance: upstream.id, url: req.url, headers: req.headers }));
      }, 600);
    upstreams.push(
      await startUpstream(registry, slowUsers, slow),
      await startUpstream(registry, slowOrders, slow),
    );
    await start({
      routes: [],
      aggregate: [
        {
          path: '/api/dashboard/:userId',
          calls: {
            user: { service: slowUsers, path: '/users/:userId' },
            orders: { service: slowOrders, path: '/orders?user=:userId' },
            missing: { service: uniqueName('nobody'), path: '/x' },
          },
        },
      ],
    });
    const started = performance.now();
    const r = await call('/api/dashboard/u%201', { headers: { 'x-request-id': 'agg-1' } });
    // In parallel the whole answer takes one upstream delay, not two.
    expect(performance.now() - started).toBeLessThan(1_150);
    expect(r.status).toBe(200);
    const body = r.json as unknown as {
      data: Record<string, Echo | null>;
      errors: Record<string, { code: string }>;
    };
    expect(body.data.user!.url).toBe('/users/u%201');
    expect(body.data.orders!.url).toBe('/orders?user=u%201');
    expect(body.data.user!.headers['x-request-id']).toBe('agg-1');
    expect(body.data.missing).toBeNull();
    expect(body.errors.missing!.code).toBe('NOA_SERVICE_NO_INSTANCES');
    expect(body.errors.user).toBeUndefined();
  });

  it('transform hooks, header versioning, CORS preflight, metrics and access log', async () => {
    const metrics = createMemoryMetrics();
    const lines: Record<string, unknown>[] = [];
    const logger: Logger = {
      debug: () => {},
      info: (obj: object | string) =>
        void (typeof obj === 'object' && lines.push(obj as Record<string, unknown>)),
      warn: () => {},
      error: () => {},
    };
    await start({
      versioning: 'header',
      defaultVersion: '1',
      metrics,
      logger,
      cors: { origins: ['https://app.example'], credentials: true, exposedHeaders: ['x-request-id'] },
      routes: [
        {
          prefix: '/v',
          service: users,
          version: '1',
          name: 'v1',
          transform: {
            request: (ctx) => {
              ctx.headers['x-added'] = 'yes';
              ctx.path = `/rewritten${ctx.path}`;
            },
            response: (ctx) => {
              ctx.headers['x-served-by'] = 'gateway';
              delete ctx.headers['content-type'];
            },
          },
        },
        { prefix: '/v', service: orders, version: '2', name: 'v2' },
      ],
    });
    const v1 = await call('/v/a');
    expect(v1.json.url).toBe('/rewritten/v/a');
    expect(v1.json.headers['x-added']).toBe('yes');
    expect(v1.json.headers['x-api-version']).toBe('1');
    expect(v1.headers['x-served-by']).toBe('gateway');
    const v2 = await call('/v/a', { headers: { 'accept-version': '2', origin: 'https://app.example' } });
    expect(v2.json.instance).toBe(upstreams[2]!.id);
    expect(v2.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(v2.headers['access-control-allow-credentials']).toBe('true');
    expect(v2.headers['access-control-expose-headers']).toBe('x-request-id');
    const preflight = await call('/v/a', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-methods']).toContain('PUT');
    expect(preflight.headers['access-control-allow-headers']).toBe('content-type');
    const denied = await call('/v/a', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(denied.status).toBe(403);
    expect(metrics.value('gateway_requests_total', { route: 'v1', method: 'GET', status_class: '2xx' })).toBe(
      1,
    );
    expect(metrics.value('gateway_requests_total', { route: 'v2', method: 'GET', status_class: '2xx' })).toBe(
      1,
    );
    expect(metrics.observations('gateway_request_duration_seconds', { route: 'v1' })).toHaveLength(1);
    expect(lines.some((l) => l.route === 'v1' && l.status === 200 && typeof l.requestId === 'string')).toBe(
      true,
    );
  });

  it('proxies WebSocket upgrades, with auth, rate limit and URL limit on the handshake', async () => {
    const wsName = uniqueName('ws');
    const server = createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', (socket, req) => {
      socket.on('message', (data) =>
        socket.send(`echo:${data}:${req.url}:${req.headers['x-user-id'] ?? '-'}`),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    extraClose.push(async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    await registry.register({
      name: wsName,
      address: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
    });
    await start({
      routes: [
        { prefix: '/ws', service: wsName, stripPrefix: true },
        { prefix: '/wss', service: wsName, auth: { jwt: { secret: SECRET } } },
        { prefix: '/limited', service: wsName, rateLimit: { limit: 1, windowMs: 60_000 } },
      ],
      limits: { urlBytes: 500 },
    });
    const wsUrl = base.replace('http', 'ws');
    const roundTrip = (url: string, headers: Record<string, string> = {}) =>
      new Promise<string>((resolve, reject) => {
        const ws = new WebSocket(url, { headers });
        ws.once('open', () => ws.send('hi'));
        ws.once('message', (data) => {
          resolve(String(data));
          ws.close();
        });
        ws.once('error', reject);
        ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
      });
    expect(await roundTrip(`${wsUrl}/ws/chat?room=1`, { 'x-user-id': 'forged' })).toBe(
      'echo:hi:/chat?room=1:-',
    );
    await expect(roundTrip(`${wsUrl}/wss/chat`)).rejects.toThrow('status 401');
    const token = await new SignJWT({ sub: 'ws-user' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    expect(await roundTrip(`${wsUrl}/wss/chat`, { authorization: `Bearer ${token}` })).toBe(
      'echo:hi:/wss/chat:ws-user',
    );
    // The route's rate limit counts handshakes: the second connection in the window is refused.
    expect(await roundTrip(`${wsUrl}/limited/chat`)).toBe('echo:hi:/limited/chat:-');
    await expect(roundTrip(`${wsUrl}/limited/chat`)).rejects.toThrow('status 429');
    await expect(roundTrip(`${wsUrl}/ws/${'a'.repeat(600)}`)).rejects.toThrow('status 414');
  });
});
