import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';

// RFC 9110 §7.6.1 connection-specific headers, plus the legacy ones proxies strip too.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Header names listed in `Connection` are hop-by-hop for this message too. */
function connectionListed(headers: IncomingHttpHeaders | OutgoingHttpHeaders): Set<string> | undefined {
  const value = headers.connection;
  if (!value || typeof value !== 'string') return undefined;
  // The common values list no other header: skip the split on every request.
  if (value === 'keep-alive' || value === 'close' || value === 'Keep-Alive' || value === 'Close')
    return undefined;
  const names = value
    .toLowerCase()
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'close' && s !== 'keep-alive');
  return names.length ? new Set(names) : undefined;
}

/** The client address: the socket's, or with `trustProxy` the first X-Forwarded-For entry. */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? '';
}

const FORWARDING = [
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-prefix',
  'forwarded',
];

/**
 * The request headers never copied upstream: hop-by-hop ones, `host`, the `remove` list (claim
 * headers a client must not forge, secrets) and, unless the client is a trusted proxy, its own
 * forwarding headers. Computed once per gateway: skipping while copying is cheaper than deleting
 * afterwards (deletes turn the object into a slow dictionary).
 */
export function skippedRequestHeaders(remove: readonly string[], trustProxy: boolean): ReadonlySet<string> {
  return new Set([...HOP_BY_HOP, 'host', ...remove, ...(trustProxy ? [] : FORWARDING)]);
}

export interface ForwardOptions {
  /** From skippedRequestHeaders(). */
  skip: ReadonlySet<string>;
  /** Added after copying (verified claims). */
  add?: Record<string, string>;
  /** Prefix the route stripped, for X-Forwarded-Prefix. */
  prefix?: string;
  /** Keep Upgrade/Connection for a WebSocket handshake. */
  upgrade?: boolean;
}

/**
 * The headers sent upstream: everything but `skip` and the names listed in `Connection`, then
 * X-Forwarded-For/Proto/Host/Prefix and RFC 7239 `Forwarded` appended (a trusted proxy's kept).
 */
export function upstreamHeaders(
  req: IncomingMessage,
  options: ForwardOptions,
): Record<string, string | string[]> {
  const listed = connectionListed(req.headers);
  const out: Record<string, string | string[]> = {};
  const incoming = req.headers;
  const { skip } = options;
  for (const name in incoming) {
    if (skip.has(name) || listed?.has(name)) continue;
    const value = incoming[name];
    if (value !== undefined) out[name] = value;
  }
  if (options.add) Object.assign(out, options.add);
  const ip = req.socket.remoteAddress ?? '';
  const proto = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  const host = incoming.host ?? '';
  const xff = out['x-forwarded-for'];
  out['x-forwarded-for'] = xff ? `${Array.isArray(xff) ? xff.join(', ') : xff}, ${ip}` : ip;
  out['x-forwarded-proto'] ??= proto;
  if (host) out['x-forwarded-host'] ??= host;
  if (options.prefix) out['x-forwarded-prefix'] = options.prefix;
  const node = ip.includes(':') ? `"[${ip}]"` : ip;
  const quoted = host.includes('"') || host.includes('\\') ? host.replace(/["\\]/g, '') : host;
  const element = `for=${node};proto=${proto}${host ? `;host="${quoted}"` : ''}`;
  const forwarded = out.forwarded;
  out.forwarded = forwarded
    ? `${Array.isArray(forwarded) ? forwarded.join(', ') : forwarded}, ${element}`
    : element;
  if (options.upgrade) {
    out.connection = 'Upgrade';
    if (incoming.upgrade) out.upgrade = incoming.upgrade;
  }
  return out;
}

/** The upstream's response headers minus hop-by-hop ones, for the client. */
export function downstreamHeaders(
  headers: Record<string, string | string[] | undefined>,
): OutgoingHttpHeaders {
  const listed = connectionListed(headers);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || listed?.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
