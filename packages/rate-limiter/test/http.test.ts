import type { AddressInfo } from 'node:net';
import express from 'express';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { rateLimit } from '../src/express.js';
import type { RateLimitStore } from '../src/index.js';
import { servers, type TestServer } from './http-servers.js';

const HOUR = 3_600_000;

async function get(server: TestServer, path: string, headers: Record<string, string> = {}) {
  const res = await request(`${server.url}${path}`, { headers });
  const body = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body };
}

async function statuses(server: TestServer, path: string, n: number, headers?: Record<string, string>) {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await get(server, path, headers)).status);
  return out;
}

describe.each(Object.keys(servers) as (keyof typeof servers)[])(
  '%s middleware over real HTTP',
  (framework) => {
    let server: TestServer | undefined;
    const start = async (options: Parameters<(typeof servers)['express']>[0]) => {
      server = await servers[framework](options);
      return server;
    };
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it('admits the limit, then answers 429 with Retry-After and both header styles', async () => {
      const s = await start({ limit: 3, windowMs: 60_000, algorithm: 'fixed-window' });
      const first = await get(s, '/a');
      expect(first.status).toBe(200);
      expect(first.headers['x-ratelimit-limit']).toBe('3');
      expect(first.headers['x-ratelimit-remaining']).toBe('2');
      const reset = Number(first.headers['x-ratelimit-reset']);
      expect(reset).toBeGreaterThan(Date.now() / 1000 + 50);
      expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 61);
      expect(first.headers['ratelimit-policy']).toBe('"default";q=3;w=60');
      expect(first.headers.ratelimit).toMatch(/^"default";r=2;t=(59|60)$/);
      expect(await statuses(s, '/a', 2)).toEqual([200, 200]);
      const limited = await get(s, '/a');
      expect(limited.status).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(59);
      expect(limited.headers['x-ratelimit-remaining']).toBe('0');
      expect(JSON.parse(limited.body)).toMatchObject({ error: 'Too Many Requests' });
    });

    it('sends only the selected header style', async () => {
      const s = await start({ limit: 5, windowMs: 60_000, headers: 'ietf' });
      const res = await get(s, '/a');
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
      expect(res.headers['ratelimit-policy']).toBe('"default";q=5;w=60');
      await s.close();
      server = await start({ limit: 5, windowMs: 60_000, headers: 'none' });
      const none = await get(server, '/a');
      expect(none.headers.ratelimit).toBeUndefined();
      expect(none.headers['x-ratelimit-limit']).toBeUndefined();
    });

    it('applies per-user and per-role rules, anonymous clients by IP', async () => {
      const s = await start({
        windowMs: HOUR,
        rules: [
          { name: 'anonymous', match: { authenticated: false }, limit: 1 },
          { name: 'free', match: { role: 'free' }, by: 'user', limit: 2 },
          { name: 'premium', match: { role: 'premium' }, by: 'user', limit: 4 },
        ],
      });
      expect(await statuses(s, '/a', 2)).toEqual([200, 429]);
      expect(await statuses(s, '/a', 3, { 'x-user': 'ann', 'x-roles': 'free' })).toEqual([200, 200, 429]);
      expect(await statuses(s, '/a', 3, { 'x-user': 'bob', 'x-roles': 'free' })).toEqual([200, 200, 429]);
      expect(await statuses(s, '/a', 5, { 'x-user': 'cy', 'x-roles': 'premium' })).toEqual([
        200, 200, 200, 200, 429,
      ]);
      const res = await get(s, '/a', { 'x-user': 'dee', 'x-roles': 'premium' });
      expect(res.headers['ratelimit-policy']).toBe('"premium";q=4;w=3600');
    });

    it('counts per role with by: role (everyone holding the role shares one bucket)', async () => {
      const s = await start({ windowMs: HOUR, rules: [{ name: 'roles', by: 'role', limit: 2 }] });
      expect((await get(s, '/a', { 'x-user': 'ann', 'x-roles': 'free' })).status).toBe(200);
      expect((await get(s, '/a', { 'x-user': 'bob', 'x-roles': 'free' })).status).toBe(200);
      expect((await get(s, '/a', { 'x-user': 'cy', 'x-roles': 'free' })).status).toBe(429);
      expect((await get(s, '/a', { 'x-user': 'dee', 'x-roles': 'premium' })).status).toBe(200);
    });

    it('limits clients whose key is huge (long user id or path) instead of failing the request', async () => {
      const s = await start({
        windowMs: HOUR,
        rules: [{ name: 'users', by: ['user', 'endpoint'], limit: 2 }],
      });
      const long = { 'x-user': 'u'.repeat(3_000) };
      const path = `/${'p'.repeat(3_000)}`;
      expect(await statuses(s, path, 3, long)).toEqual([200, 200, 429]);
      // A different long id (last character) is a different client.
      expect(await statuses(s, path, 1, { 'x-user': `${'u'.repeat(2_999)}v` })).toEqual([200]);
    });

    it('counts per endpoint: Fastify by route pattern, Express by path', async () => {
      const s = await start({
        rules: [{ name: 'endpoint', by: ['ip', 'endpoint'], limit: 2, windowMs: HOUR }],
      });
      const users = [...(await statuses(s, '/users/1', 2)), (await get(s, '/users/2')).status];
      // /users/1 and /users/2: one endpoint in Fastify (GET /users/:id), two paths in Express.
      expect(users).toEqual(framework === 'fastify' ? [200, 200, 429] : [200, 200, 200]);
      expect(await statuses(s, '/a', 3)).toEqual([200, 200, 429]);
    });

    it('enforces several limits on one route; a refused request is refunded to the rules it passed', async () => {
      const s = await start({
        rules: [
          { name: 'search', match: { path: '/search*', method: 'GET' }, limit: 2, windowMs: HOUR },
          { name: 'daily', limit: 3, windowMs: 24 * HOUR },
        ],
      });
      const first = await get(s, '/search');
      expect(first.headers['ratelimit-policy']).toBe('"search";q=2;w=3600, "daily";q=3;w=86400');
      expect(first.headers.ratelimit).toMatch(/^"search";r=1;t=\d+, "daily";r=2;t=\d+$/);
      expect(first.headers['x-ratelimit-remaining']).toBe('1');
      expect(await statuses(s, '/search', 2)).toEqual([200, 429]);
      // daily spent 2 (the refused /search was given back), so one more request passes anywhere.
      expect(await statuses(s, '/other', 2)).toEqual([200, 429]);
    });

    it('honours allow and deny lists (IPv4 CIDR) and answers 403 to denied clients', async () => {
      const denied = await start({ limit: 1, windowMs: HOUR, deny: ['127.0.0.0/8'] });
      const res = await get(denied, '/a');
      expect(res.status).toBe(403);
      expect(JSON.parse(res.body)).toEqual({ error: 'Forbidden' });
      await denied.close();
      server = await start({ limit: 1, windowMs: HOUR, allow: ['10.0.0.0/8', '127.0.0.1'] });
      expect(await statuses(server, '/a', 4)).toEqual([200, 200, 200, 200]);
      expect((await get(server, '/a')).headers['x-ratelimit-limit']).toBeUndefined();
    });

    it('ignores X-Forwarded-For unless the proxy is trusted, and keys IPv6 clients by /64', async () => {
      const untrusted = await start({ limit: 1, windowMs: HOUR });
      // Spoofed headers do not create fresh buckets when no proxy is trusted.
      expect((await get(untrusted, '/a', { 'x-forwarded-for': '198.51.100.1' })).status).toBe(200);
      expect((await get(untrusted, '/a', { 'x-forwarded-for': '198.51.100.2' })).status).toBe(429);
      await untrusted.close();

      server = await start({
        limit: 2,
        windowMs: HOUR,
        trustProxy: ['127.0.0.1/32', '::1'],
        deny: ['2001:db8:dead::/48', '203.0.113.0/24'],
      });
      const from = (ip: string) => ({ 'x-forwarded-for': `${ip}, 127.0.0.1` });
      expect((await get(server, '/a', from('2001:db8:1:2::1'))).status).toBe(200);
      expect((await get(server, '/a', from('2001:db8:1:2:ffff::9'))).status).toBe(200);
      // Same /64: the third request from that network is over the limit.
      expect((await get(server, '/a', from('2001:db8:1:2::abcd'))).status).toBe(429);
      expect((await get(server, '/a', from('2001:db8:1:3::1'))).status).toBe(200);
      expect((await get(server, '/a', from('2001:db8:dead:1::1'))).status).toBe(403);
      expect((await get(server, '/a', from('::ffff:203.0.113.9'))).status).toBe(403);
      expect((await get(server, '/a', from('198.51.100.7'))).status).toBe(200);
    });

    it('keys IPv6 clients by the configured ipv6Prefix', async () => {
      const s = await start({ limit: 1, windowMs: HOUR, trustProxy: ['127.0.0.1'], ipv6Prefix: 48 });
      const from = (ip: string) => ({ 'x-forwarded-for': ip });
      expect((await get(s, '/a', from('2001:db8:1:2::1'))).status).toBe(200);
      // Another /64 in the same /48: the same client.
      expect((await get(s, '/a', from('2001:db8:1:3::1'))).status).toBe(429);
      expect((await get(s, '/a', from('2001:db8:2::1'))).status).toBe(200);
    });

    it('blocks a client that keeps exceeding its limit', async () => {
      const s = await start({ limit: 1, windowMs: HOUR, blockAfterViolations: 2, blockDurationMs: 5 * HOUR });
      expect(await statuses(s, '/a', 3)).toEqual([200, 429, 429]);
      const blocked = await get(s, '/a');
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(4 * 3600);
    });

    it('answers 503 (not 429) when the store is down and failing closed (fake store that always fails)', async () => {
      const failing: RateLimitStore = {
        name: 'failing',
        apply: () => Promise.reject(new Error('connection refused')),
        close: async () => {},
        [Symbol.asyncDispose]: async () => {},
      };
      const s = await start({ limit: 5, windowMs: HOUR, store: failing, onStoreError: 'fail-closed' });
      const res = await get(s, '/a');
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.headers['x-ratelimit-remaining']).toBeUndefined();
      await s.close();
      server = await start({ limit: 5, windowMs: HOUR, store: failing, onStoreError: 'fail-open' });
      expect(await statuses(server, '/a', 3)).toEqual([200, 200, 200]);
    });

    it.runIf(framework === 'express')(
      'mounted on a route, counts per endpoint by the route pattern',
      async () => {
        const app = express();
        const limiter = rateLimit({
          rules: [{ name: 'endpoint', by: 'endpoint', limit: 2, windowMs: HOUR }],
        });
        app.use(
          '/v1',
          express.Router().get('/users/:id', limiter, (_req, res) => void res.json({})),
        );
        const listening = app.listen(0, '127.0.0.1');
        await new Promise((resolve) => listening.once('listening', resolve));
        const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
        server = {
          url,
          close: async () => {
            listening.closeAllConnections();
            await new Promise((resolve) => listening.close(resolve));
            await limiter.close();
          },
        };
        const first = await get(server, '/v1/users/1');
        expect(first.headers.ratelimit).toMatch(/^"endpoint";r=1;/);
        expect([
          (await get(server, '/v1/users/2')).status,
          (await get(server, '/v1/users/3')).status,
        ]).toEqual([200, 429]);
      },
    );

    it.runIf(framework === 'fastify')('skips routes with config.rateLimit = false', async () => {
      const s = await start({ limit: 1, windowMs: HOUR });
      expect(await statuses(s, '/health', 3)).toEqual([200, 200, 200]);
    });
  },
);
