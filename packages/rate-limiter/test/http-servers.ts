/** Real Express 5 and Fastify 5 servers on a loopback port, for the middleware tests. */
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { type ExpressRateLimitOptions, rateLimit } from '../src/express.js';
import { type FastifyRateLimitOptions, fastifyRateLimit } from '../src/fastify.js';

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

type Options = ExpressRateLimitOptions & FastifyRateLimitOptions;

/** User and roles come from `x-user` / `x-roles` headers, standing in for an auth layer. */
const header = (value: string | string[] | undefined) => (typeof value === 'string' ? value : undefined);

export async function startExpress(options: Omit<Options, 'user' | 'roles'>): Promise<TestServer> {
  const app = express();
  const limiter = rateLimit({
    ...(options as ExpressRateLimitOptions),
    user: (req) => header(req.headers['x-user']),
    roles: (req) => header(req.headers['x-roles'])?.split(','),
  });
  app.use(limiter);
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  app.all('/{*rest}', (req, res) => {
    res.json({ path: req.path });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await limiter.close();
    },
  };
}

export async function startFastify(options: Omit<Options, 'user' | 'roles'>): Promise<TestServer> {
  const app = Fastify();
  await app.register(fastifyRateLimit, {
    ...(options as FastifyRateLimitOptions),
    user: (request) => header(request.headers['x-user']),
    roles: (request) => header(request.headers['x-roles'])?.split(','),
  });
  app.get('/users/:id', async (request) => ({ id: (request.params as { id: string }).id }));
  app.get('/health', { config: { rateLimit: false } }, async () => ({ ok: true }));
  app.all('/*', async (request) => ({ path: request.url }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}

export const servers = { express: startExpress, fastify: startFastify };
