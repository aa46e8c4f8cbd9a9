/**
 * Local HTTP servers that implement each provider's documented purge endpoints and check the auth
 * headers. They stand in for CDN APIs that cannot run here; tests using them say "(fake ...)".
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signEdgeGrid } from '../src/signing/edgegrid.js';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Fake {
  url: string;
  requests: Recorded[];
  /** Answer the next N requests with this status (and headers) before behaving normally. */
  failNext(count: number, status: number, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

type Handler = (req: Recorded, res: ServerResponse) => void;

async function startFake(handler: Handler): Promise<Fake> {
  const requests: Recorded[] = [];
  let failures: { count: number; status: number; headers: Record<string, string> } = {
    count: 0,
    status: 0,
    headers: {},
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const recorded = {
        method: req.method!,
        path: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      requests.push(recorded);
      if (failures.count > 0) {
        failures.count--;
        res.writeHead(failures.status, { 'content-type': 'application/json', ...failures.headers });
        res.end(JSON.stringify({ title: 'simulated failure', httpStatus: failures.status }));
        return;
      }
      handler(recorded, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext: (count, status, headers = {}) => {
      failures = { count, status, headers };
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

// --- Cloudflare: POST /zones/:zone/purge_cache ---------------------------------------------------
export const CF_TOKEN = 'cf-test-token';
/** The legacy global API key and its account email (X-Auth-Key / X-Auth-Email). */
export const CF_KEY = { apiKey: 'cf-global-key', email: 'ops@example.com' };

export function fakeCloudflare(options: { zoneId: string; maxItems?: number }): Promise<Fake> {
  let id = 0;
  return startFake((req, res) => {
    const error = (status: number, code: number, message: string) =>
      json(res, status, { success: false, errors: [{ code, message }], messages: [], result: null });
    if (req.method !== 'POST' || req.path !== `/zones/${options.zoneId}/purge_cache`)
      return error(404, 7003, 'Could not route');
    const legacy =
      req.headers['x-auth-key'] === CF_KEY.apiKey && req.headers['x-auth-email'] === CF_KEY.email;
    if (req.headers.authorization !== `Bearer ${CF_TOKEN}` && !legacy)
      return error(403, 10000, 'Authentication error');
    const body = JSON.parse(req.body);
    const keys = Object.keys(body);
    if (keys.length !== 1)
      return error(400, 1012, 'Request must contain one of files, tags, hosts, prefixes, purge_everything');
    const key = keys[0]!;
    if (key !== 'purge_everything') {
      if (!['files', 'tags', 'hosts', 'prefixes'].includes(key))
        return error(400, 1012, `unknown field ${key}`);
      if (body[key].length > (options.maxItems ?? 100)) return error(400, 1015, 'too many items');
      if (key === 'prefixes' && body[key].some((p: string) => /^https?:/.test(p)))
        return error(400, 1016, 'prefix must not include scheme');
      if (key === 'files' && body[key].some((f: string) => !/^https?:\/\//.test(f)))
        return error(400, 1017, 'files must be absolute URLs');
    }
    json(res, 200, { success: true, errors: [], messages: [], result: { id: `cf-${++id}` } });
  });
}

// --- Fastly: POST /purge/<url>, POST /service/:id/purge, POST /service/:id/purge_all ---------------
export const FASTLY_KEY = 'fastly-test-key';

export function fakeFastly(options: { serviceId: string }): Promise<Fake> {
  let id = 0;
  return startFake((req, res) => {
    if (req.headers['fastly-key'] !== FASTLY_KEY)
      return json(res, 401, { msg: 'Provided credentials are missing or invalid' });
    if (req.method !== 'POST') return json(res, 405, { msg: 'method' });
    if (req.path === `/service/${options.serviceId}/purge_all`) return json(res, 200, { status: 'ok' });
    if (req.path === `/service/${options.serviceId}/purge`) {
      const keys: string[] = JSON.parse(req.body).surrogate_keys;
      if (!Array.isArray(keys) || keys.length === 0 || keys.length > 256)
        return json(res, 400, { msg: 'between 1 and 256 keys' });
      return json(res, 200, Object.fromEntries(keys.map((k) => [k, `p-${++id}`])));
    }
    if (req.path.startsWith('/purge/')) {
      if (/^\/purge\/https?:/.test(req.path)) return json(res, 400, { msg: 'URL without scheme expected' });
      return json(res, 200, { status: 'ok', id: `u-${++id}` });
    }
    json(res, 404, { msg: 'not found' });
  });
}

// --- Akamai Fast Purge: POST /ccu/v3/{invalidate|delete}/{url|tag|cpcode}/{network}, EdgeGrid ------
export const AKAMAI_CREDENTIALS = {
  clientToken: 'akab-client-token-xxx-xxxxxxxxxxxxxxxx',
  clientSecret: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=',
  accessToken: 'akab-access-token-xxx-xxxxxxxxxxxxxxxx',
};

export function fakeAkamai(): Promise<Fake & { signatureFailures: number }> {
  let id = 0;
  const state = { signatureFailures: 0 };
  let base = '';
  const fake = startFake((req, res) => {
    const match = /^\/ccu\/v3\/(invalidate|delete)\/(url|tag|cpcode)\/(production|staging)$/.exec(req.path);
    if (req.method !== 'POST' || !match) return json(res, 404, { title: 'Not found', httpStatus: 404 });
    const auth = String(req.headers.authorization ?? '');
    const fields = Object.fromEntries(
      auth
        .replace(/^EG1-HMAC-SHA256 /, '')
        .split(';')
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    const expected = signEdgeGrid(
      AKAMAI_CREDENTIALS,
      { method: 'POST', url: `${base}${req.path}`, body: req.body },
      { timestamp: fields.timestamp, nonce: fields.nonce, maxBodyBytes: 50_000 },
    );
    if (
      !auth.startsWith('EG1-HMAC-SHA256 ') ||
      fields.client_token !== AKAMAI_CREDENTIALS.clientToken ||
      auth !== expected
    ) {
      state.signatureFailures++;
      return json(res, 401, { title: 'The signature does not match', httpStatus: 401 });
    }
    if (Buffer.byteLength(req.body) > 50_000)
      return json(res, 413, { title: 'Request entity too large', httpStatus: 413 });
    const body = JSON.parse(req.body);
    const objects = body.objects;
    const numeric = objects.every((o: unknown) => typeof o === 'number');
    if ((match[2] === 'cpcode') !== numeric)
      return json(res, 400, { title: 'mixed or wrong object types', httpStatus: 400 });
    json(res, 201, {
      httpStatus: 201,
      detail: 'Request accepted',
      estimatedSeconds: 5,
      purgeId: `a-${++id}`,
      supportId: `s-${id}`,
    });
  });
  return fake.then((f) => {
    base = f.url;
    return Object.assign(f, {
      get signatureFailures() {
        return state.signatureFailures;
      },
    });
  });
}

// --- CloudFront REST-XML: CreateInvalidation / GetInvalidation / ListInvalidations ----------------
export const AWS_CREDENTIALS = { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' };

interface Invalidation {
  id: string;
  reference: string;
  paths: string[];
  createdAt: number;
  completed: boolean;
}

const XMLNS = 'http://cloudfront.amazonaws.com/doc/2020-05-31/';
const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function invalidationXml(inv: Invalidation): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Invalidation xmlns="${XMLNS}"><Id>${inv.id}</Id><Status>${
    inv.completed ? 'Completed' : 'InProgress'
  }</Status><CreateTime>${new Date(inv.createdAt).toISOString()}</CreateTime><InvalidationBatch><Paths><Quantity>${
    inv.paths.length
  }</Quantity><Items>${inv.paths.map((p) => `<Path>${escapeXml(p)}</Path>`).join('')}</Items></Paths><CallerReference>${
    inv.reference
  }</CallerReference></InvalidationBatch></Invalidation>`;
}

export interface FakeCloudFront extends Fake {
  invalidations: Invalidation[];
  /** The most paths / wildcards ever in progress at once. */
  peak: { paths: number; wildcards: number };
  /** Adds an invalidation "another client" started. */
  preload(paths: string[]): void;
}

export async function fakeCloudFront(options: {
  distributionId: string;
  /** An invalidation completes after this many GetInvalidation calls for it. Default 1. */
  completeAfterGets?: number;
  maxPaths?: number;
  maxWildcards?: number;
}): Promise<FakeCloudFront> {
  const invalidations: Invalidation[] = [];
  const gets = new Map<string, number>();
  const peak = { paths: 0, wildcards: 0 };
  let id = 0;
  const inProgress = () => {
    let paths = 0;
    let wildcards = 0;
    for (const inv of invalidations)
      if (!inv.completed)
        for (const p of inv.paths) {
          if (p.endsWith('*')) wildcards++;
          else paths++;
        }
    return { paths, wildcards };
  };
  const xmlError = (res: ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { 'content-type': 'text/xml' });
    res.end(
      `<?xml version="1.0"?><ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`,
    );
  };
  const prefix = `/2020-05-31/distribution/${options.distributionId}/invalidation`;
  const fake = await startFake((req, res) => {
    const auth = String(req.headers.authorization ?? '');
    if (
      !auth.startsWith(`AWS4-HMAC-SHA256 Credential=${AWS_CREDENTIALS.accessKeyId}/`) ||
      !auth.includes('/cloudfront/aws4_request')
    )
      return xmlError(res, 403, 'AccessDenied', 'missing or wrong SigV4 authorization');
    const url = new URL(req.path, 'http://x');
    if (req.method === 'POST' && url.pathname === prefix) {
      const paths = [...req.body.matchAll(/<Path>([^<]*)<\/Path>/g)].map((m) => m[1]!.replace(/&amp;/g, '&'));
      const reference = /<CallerReference>([^<]*)<\/CallerReference>/.exec(req.body)?.[1] ?? '';
      const quantity = Number(/<Quantity>(\d+)<\/Quantity>/.exec(req.body)?.[1]);
      if (!reference || quantity !== paths.length) return xmlError(res, 400, 'InvalidArgument', 'bad batch');
      if (paths.some((p) => p.indexOf('*') !== -1 && p.indexOf('*') !== p.length - 1))
        return xmlError(res, 400, 'InvalidArgument', 'wildcard must be last');
      const existing = invalidations.find((i) => i.reference === reference);
      if (existing) {
        res.writeHead(201, { 'content-type': 'text/xml', location: `${prefix}/${existing.id}` });
        return res.end(invalidationXml(existing));
      }
      const now = inProgress();
      const wild = paths.filter((p) => p.endsWith('*')).length;
      if (
        now.paths + paths.length - wild > (options.maxPaths ?? 3000) ||
        now.wildcards + wild > (options.maxWildcards ?? 15)
      )
        return xmlError(
          res,
          400,
          'TooManyInvalidationsInProgress',
          'Processing your request will cause you to exceed the maximum number of in-progress wildcard invalidations.',
        );
      const inv = { id: `I${++id}`, reference, paths, createdAt: Date.now(), completed: false };
      invalidations.push(inv);
      const after = inProgress();
      peak.paths = Math.max(peak.paths, after.paths);
      peak.wildcards = Math.max(peak.wildcards, after.wildcards);
      res.writeHead(201, { 'content-type': 'text/xml', location: `${prefix}/${inv.id}` });
      return res.end(invalidationXml(inv));
    }
    if (req.method === 'GET' && url.pathname.startsWith(`${prefix}/`)) {
      const inv = invalidations.find((i) => i.id === url.pathname.slice(prefix.length + 1));
      if (!inv) return xmlError(res, 404, 'NoSuchInvalidation', 'not found');
      const n = (gets.get(inv.id) ?? 0) + 1;
      gets.set(inv.id, n);
      if (n >= (options.completeAfterGets ?? 1)) inv.completed = true;
      res.writeHead(200, { 'content-type': 'text/xml' });
      return res.end(invalidationXml(inv));
    }
    if (req.method === 'GET' && url.pathname === prefix) {
      res.writeHead(200, { 'content-type': 'text/xml' });
      return res.end(
        `<?xml version="1.0"?><InvalidationList xmlns="${XMLNS}"><Marker></Marker><MaxItems>100</MaxItems><IsTruncated>false</IsTruncated><Quantity>${
          invalidations.length
        }</Quantity><Items>${invalidations
          .map(
            (i) =>
              `<InvalidationSummary><Id>${i.id}</Id><CreateTime>${new Date(i.createdAt).toISOString()}</CreateTime><Status>${
                i.completed ? 'Completed' : 'InProgress'
              }</Status></InvalidationSummary>`,
          )
          .join('')}</Items></InvalidationList>`,
      );
    }
    xmlError(res, 404, 'NotFound', `no route ${req.method} ${url.pathname}`);
  });
  return Object.assign(fake, {
    invalidations,
    peak,
    preload: (paths: string[]) => {
      invalidations.push({
        id: `I${++id}`,
        reference: `other-${id}`,
        paths,
        createdAt: Date.now(),
        completed: false,
      });
    },
  });
}
