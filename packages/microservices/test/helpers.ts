import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServiceRegistry } from '../src/index.js';

export interface Upstream {
  id: string;
  port: number;
  server: Server;
  hits: number;
  /** Closes the listener and cuts every connection, like a crashed process (no deregistration). */
  kill(): Promise<void>;
}

/** What the default upstream handler answers: the request as it arrived. */
export interface Echo {
  instance: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, upstream: Upstream) => void;

const defaultHandler: UpstreamHandler = (req, res, upstream) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        instance: upstream.id,
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      }),
    );
  });
};

/** A plain HTTP upstream on a free loopback port, registered without a health check. */
export async function startUpstream(
  registry: ServiceRegistry,
  name: string,
  handler: UpstreamHandler = defaultHandler,
  options: { weight?: number; tags?: string[] } = {},
): Promise<Upstream> {
  const upstream = { id: '', port: 0, hits: 0 } as Upstream;
  upstream.server = createServer((req, res) => {
    upstream.hits++;
    handler(req, res, upstream);
  });
  await new Promise<void>((resolve) => upstream.server.listen(0, '127.0.0.1', resolve));
  upstream.port = (upstream.server.address() as AddressInfo).port;
  upstream.kill = async () => {
    const closed = new Promise<void>((resolve) => upstream.server.close(() => resolve()));
    upstream.server.closeAllConnections();
    await closed;
  };
  const reg = await registry.register({ name, address: '127.0.0.1', port: upstream.port, ...options });
  upstream.id = reg.id;
  return upstream;
}

/** A free port nothing listens on (bound, then released). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
