/**
 * A fake Consul agent for tests: the documented HTTP API subset the registry uses (agent service
 * register/deregister with HTTP and TTL checks, TTL check updates, health/service with `passing`
 * and blocking queries via `index`/`wait` + X-Consul-Index, catalog/services, KV get/put/delete with
 * `recurse`). No Consul agent can run on this machine; live tests run when CONSUL_HTTP_ADDR is set.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Check {
  id: string;
  status: 'passing' | 'warning' | 'critical';
  output: string;
  http?: string;
  intervalMs?: number;
  timeoutMs?: number;
  ttlMs?: number;
  ttlDeadline?: number;
  deregisterAfterMs?: number;
  criticalSince?: number;
  timer?: NodeJS.Timeout;
}

interface Service {
  ID: string;
  Service: string;
  Address: string;
  Port: number;
  Tags: string[];
  Meta: Record<string, string>;
  check?: Check;
}

export interface FakeConsul {
  url: string;
  host: string;
  port: number;
  /** Requests seen, e.g. `GET /v1/health/service/users`. */
  requests: string[];
  close(): Promise<void>;
}

function parseDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`bad duration ${text}`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

export async function startFakeConsul(): Promise<FakeConsul> {
  const services = new Map<string, Service>();
  const kv = new Map<string, { value: Buffer; modifyIndex: number }>();
  let index = 1;
  const waiters = new Set<() => void>();
  const requests: string[] = [];
  const bump = () => {
    index++;
    for (const wake of [...waiters]) wake();
  };
  const setStatus = (check: Check, status: Check['status'], output = '') => {
    if (check.status === status) return;
    check.status = status;
    check.output = output;
    check.criticalSince = status === 'critical' ? Date.now() : undefined;
    bump();
  };
  const reaper = setInterval(() => {
    const now = Date.now();
    for (const service of services.values()) {
      const check = service.check;
      if (!check) continue;
      if (check.ttlDeadline !== undefined && now > check.ttlDeadline && check.status !== 'critical')
        setStatus(check, 'critical', 'TTL expired');
      if (check.criticalSince !== undefined && check.deregisterAfterMs !== undefined) {
        if (now - check.criticalSince > check.deregisterAfterMs) remove(service.ID);
      }
    }
  }, 25);
  reaper.unref();
  const remove = (id: string) => {
    const service = services.get(id);
    if (!service) return false;
    clearInterval(service.check?.timer);
    services.delete(id);
    bump();
    return true;
  };
  const runHttpCheck = async (check: Check) => {
    try {
      const res = await fetch(check.http!, { signal: AbortSignal.timeout(check.timeoutMs ?? 10_000) });
      await res.arrayBuffer();
      // Consul: 2xx passing, 429 warning, anything else critical.
      setStatus(
        check,
        res.status >= 200 && res.status < 300 ? 'passing' : res.status === 429 ? 'warning' : 'critical',
        `HTTP ${res.status}`,
      );
    } catch (error) {
      setStatus(check, 'critical', String(error));
    }
  };

  const healthEntries = (name: string, passingOnly: boolean) =>
    [...services.values()]
      .filter((s) => s.Service === name)
      .map((s) => ({
        Node: { Node: 'fake-node', Address: '127.0.0.1' },
        Service: {
          ID: s.ID,
          Service: s.Service,
          Address: s.Address,
          Port: s.Port,
          Tags: s.Tags,
          Meta: s.Meta,
        },
        Checks: [
          { CheckID: 'serfHealth', Status: 'passing', ServiceID: '' },
          ...(s.check
            ? [{ CheckID: s.check.id, Status: s.check.status, ServiceID: s.ID, Output: s.check.output }]
            : []),
        ],
      }))
      .filter((entry) => !passingOnly || entry.Checks.every((c) => c.Status === 'passing'));

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    requests.push(`${req.method} ${path}`);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const notFound = (message: string) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(message);
    };
    try {
      let m: RegExpExecArray | null;
      if (req.method === 'PUT' && path === '/v1/agent/service/register') {
        const body = JSON.parse((await readBody(req)).toString() || '{}');
        if (!body.Name) return json(400, 'Missing service name');
        const id = body.ID ?? body.Name;
        const old = services.get(id);
        if (old?.check?.timer) clearInterval(old.check.timer);
        const service: Service = {
          ID: id,
          Service: body.Name,
          Address: body.Address ?? '',
          Port: body.Port ?? 0,
          Tags: body.Tags ?? [],
          Meta: body.Meta ?? {},
        };
        const c = body.Check;
        if (c) {
          const check: Check = {
            id: `service:${id}`,
            status: c.Status ?? 'critical',
            output: '',
            deregisterAfterMs: parseDuration(c.DeregisterCriticalServiceAfter),
          };
          check.criticalSince = check.status === 'critical' ? Date.now() : undefined;
          if (c.HTTP) {
            check.http = c.HTTP;
            check.intervalMs = parseDuration(c.Interval);
            check.timeoutMs = parseDuration(c.Timeout);
            check.timer = setInterval(() => void runHttpCheck(check), check.intervalMs);
            check.timer.unref();
          } else if (c.TTL) {
            check.ttlMs = parseDuration(c.TTL);
            check.ttlDeadline = Date.now() + check.ttlMs!;
          } else return json(400, 'Check needs HTTP+Interval or TTL');
          service.check = check;
        }
        services.set(id, service);
        bump();
        return json(200, null);
      }
      if (req.method === 'PUT' && (m = /^\/v1\/agent\/service\/deregister\/(.+)$/.exec(path))) {
        if (!remove(decodeURIComponent(m[1]!))) return notFound(`Unknown service ID "${m[1]}"`);
        return json(200, null);
      }
      if (req.method === 'PUT' && (m = /^\/v1\/agent\/check\/(pass|warn|fail)\/(.+)$/.exec(path))) {
        const checkId = decodeURIComponent(m[2]!);
        const check = [...services.values()].map((s) => s.check).find((c) => c?.id === checkId);
        if (!check) return notFound(`Unknown check ID "${checkId}"`);
        if (check.ttlMs === undefined) return json(500, `CheckID "${checkId}" does not have associated TTL`);
        check.ttlDeadline = Date.now() + check.ttlMs;
        setStatus(
          check,
          m[1] === 'pass' ? 'passing' : m[1] === 'warn' ? 'warning' : 'critical',
          url.searchParams.get('note') ?? '',
        );
        return json(200, null);
      }
      if (req.method === 'GET' && (m = /^\/v1\/health\/service\/(.+)$/.exec(path))) {
        const name = decodeURIComponent(m[1]!);
        const passing = url.searchParams.has('passing');
        const wanted = Number(url.searchParams.get('index') ?? 0);
        if (wanted > 0 && wanted >= index) {
          const waitMs = Math.min(parseDuration(url.searchParams.get('wait') ?? '5m') ?? 300_000, 600_000);
          await new Promise<void>((resolve) => {
            const wake = () => {
              waiters.delete(wake);
              clearTimeout(timer);
              resolve();
            };
            const timer = setTimeout(wake, waitMs);
            waiters.add(wake);
            req.once('close', wake);
          });
        }
        if (res.destroyed) return;
        return json(200, healthEntries(name, passing), { 'X-Consul-Index': String(index) });
      }
      if (req.method === 'GET' && path === '/v1/catalog/services') {
        const out: Record<string, string[]> = { consul: [] };
        for (const s of services.values())
          out[s.Service] = [...new Set([...(out[s.Service] ?? []), ...s.Tags])];
        return json(200, out, { 'X-Consul-Index': String(index) });
      }
      if ((m = /^\/v1\/kv\/(.*)$/.exec(path))) {
        const key = decodeURIComponent(m[1]!);
        const recurse = url.searchParams.has('recurse');
        if (req.method === 'PUT') {
          kv.set(key, { value: await readBody(req), modifyIndex: ++index });
          return json(200, true);
        }
        if (req.method === 'DELETE') {
          for (const k of [...kv.keys()]) if (recurse ? k.startsWith(key) : k === key) kv.delete(k);
          index++;
          return json(200, true);
        }
        if (req.method === 'GET') {
          const items = [...kv]
            .filter(([k]) => (recurse ? k.startsWith(key) : k === key))
            .map(([k, v]) => ({
              Key: k,
              Value: v.value.toString('base64'),
              Flags: 0,
              ModifyIndex: v.modifyIndex,
            }));
          if (items.length === 0) return notFound('');
          return json(200, items, { 'X-Consul-Index': String(index) });
        }
      }
      notFound(`fake consul: ${req.method} ${path} is not implemented`);
    } catch (error) {
      if (!res.headersSent) json(500, String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    requests,
    async close() {
      clearInterval(reaper);
      for (const s of services.values()) clearInterval(s.check?.timer);
      for (const wake of [...waiters]) wake();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
