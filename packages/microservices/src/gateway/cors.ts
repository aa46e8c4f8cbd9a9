import type { IncomingMessage, ServerResponse } from 'node:http';

export interface CorsOptions {
  /** Allowed origins: a list, '*' or a predicate. */
  origins: string[] | '*' | ((origin: string) => boolean);
  /** Send Access-Control-Allow-Credentials (the origin is then echoed, never '*'). Default false. */
  credentials?: boolean;
  /** Default GET, HEAD, PUT, PATCH, POST, DELETE. */
  methods?: string[];
  /** Allowed request headers. Default: whatever the preflight asks for. */
  allowedHeaders?: string[];
  exposedHeaders?: string[];
  /** Preflight cache time in seconds. Default 600. */
  maxAgeSec?: number;
}

export interface Cors {
  /** Adds CORS headers for an allowed origin; answers a preflight fully and returns true then. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
}

export function createCors(options: CorsOptions): Cors {
  const { credentials = false, maxAgeSec = 600 } = options;
  const methods = (options.methods ?? ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE']).join(', ');
  const list = Array.isArray(options.origins) ? new Set(options.origins) : undefined;
  const allowed = (origin: string) =>
    options.origins === '*'
      ? true
      : typeof options.origins === 'function'
        ? options.origins(origin)
        : list!.has(origin);
  return {
    handle(req, res) {
      const origin = req.headers.origin;
      const preflight =
        req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
      if (!origin) return false;
      res.setHeader('vary', 'Origin');
      if (!allowed(origin)) {
        if (!preflight) return false;
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'origin not allowed' }));
        return true;
      }
      res.setHeader('access-control-allow-origin', options.origins === '*' && !credentials ? '*' : origin);
      if (credentials) res.setHeader('access-control-allow-credentials', 'true');
      if (!preflight) {
        if (options.exposedHeaders?.length)
          res.setHeader('access-control-expose-headers', options.exposedHeaders.join(', '));
        return false;
      }
      res.setHeader('access-control-allow-methods', methods);
      const requested = req.headers['access-control-request-headers'];
      const headers = options.allowedHeaders?.join(', ') ?? requested;
      if (headers) res.setHeader('access-control-allow-headers', headers);
      res.setHeader('access-control-max-age', String(maxAgeSec));
      res.writeHead(204, { 'content-length': '0' });
      res.end();
      return true;
    },
  };
}
