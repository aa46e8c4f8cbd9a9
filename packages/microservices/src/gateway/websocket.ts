import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ServiceInstance } from '../instance.js';

/**
 * Tunnels an HTTP upgrade (WebSocket) to an instance: replays the handshake with the forwarded
 * headers, then pipes bytes both ways; the upstream's 101 answer reaches the client untouched.
 */
export function proxyUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  instance: ServiceInstance,
  path: string,
  headers: Record<string, string | string[]>,
  onConnectError: () => void,
): void {
  const upstream = connect({ host: instance.address, port: instance.port });
  let connected = false;
  upstream.setNoDelay(true);
  upstream.once('connect', () => {
    connected = true;
    const host = instance.address.includes(':') ? `[${instance.address}]` : instance.address;
    let handshake = `${req.method ?? 'GET'} ${path} HTTP/1.1\r\nhost: ${host}:${instance.port}\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      for (const v of Array.isArray(value) ? value : [value]) {
        // Header values were parsed by node:http already; refuse anything that could split the request.
        if (/[\r\n]/.test(v)) continue;
        handshake += `${name}: ${v}\r\n`;
      }
    }
    upstream.write(`${handshake}\r\n`);
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.once('error', () => {
    if (!connected) onConnectError();
    else client.destroy();
  });
  client.once('error', () => upstream.destroy());
  client.once('close', () => upstream.destroy());
  upstream.once('close', () => client.destroy());
}
