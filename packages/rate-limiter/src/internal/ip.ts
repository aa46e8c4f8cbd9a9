import { isIPv4, isIPv6 } from 'node:net';
import { NoaError } from '@noa/core';

/** An address as bytes: 4 for IPv4 (IPv4-mapped IPv6 included), 16 for IPv6. */
export interface IpAddress {
  version: 4 | 6;
  bytes: Uint8Array;
}

export interface Cidr extends IpAddress {
  prefix: number;
}

function parseIpv4(text: string): Uint8Array {
  return Uint8Array.from(text.split('.'), Number);
}

function parseIpv6(text: string): Uint8Array {
  const bytes = new Uint8Array(16);
  let body = text;
  let tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (body.includes('.', lastColon)) {
    // Embedded IPv4 (::ffff:1.2.3.4): its four bytes fill the last two groups.
    tail = [...parseIpv4(body.slice(lastColon + 1))];
    body = `${body.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = body.split('::') as [string, string | undefined];
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const all = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  all.forEach((group, i) => {
    bytes[i * 2] = group >> 8;
    bytes[i * 2 + 1] = group & 0xff;
  });
  if (tail.length) bytes.set(tail, 12);
  return bytes;
}

const isMappedV4 = (b: Uint8Array) =>
  b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

/** Parses an IPv4 or IPv6 address (zone ids dropped; IPv4-mapped IPv6 becomes IPv4); undefined if invalid. */
export function parseIp(text: string): IpAddress | undefined {
  if (typeof text !== 'string') return undefined;
  if (isIPv4(text)) return { version: 4, bytes: parseIpv4(text) };
  const address = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const unzoned = address.split('%')[0]!;
  if (!isIPv6(unzoned)) return undefined;
  const bytes = parseIpv6(unzoned);
  return isMappedV4(bytes) ? { version: 4, bytes: bytes.slice(12) } : { version: 6, bytes };
}

/** Parses `10.0.0.0/8`, `2001:db8::/32` or a bare address (a /32 or /128); throws `NOA_INVALID_OPTION`. */
export function parseCidr(text: string, where: string): Cidr {
  const [address, bits, extra] = String(text).split('/');
  const ip = parseIp(address ?? '');
  const max = ip?.version === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (!ip || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max || bits === '') {
    throw new NoaError(
      'NOA_INVALID_OPTION',
      `${where}: "${text}" is not an IP address or CIDR range; write e.g. 203.0.113.7, 10.0.0.0/8 or 2001:db8::/32`,
    );
  }
  return { ...ip, prefix };
}

/** Whether `ip` lies in `cidr` (IPv4 ranges match IPv4-mapped IPv6 addresses too). */
export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.version !== ip.version) return false;
  const full = cidr.prefix >> 3;
  for (let i = 0; i < full; i++) if (cidr.bytes[i] !== ip.bytes[i]) return false;
  const rest = cidr.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (cidr.bytes[full]! & mask) === (ip.bytes[full]! & mask);
}

/** RFC 5952 text of 16 bytes: lowercase, no leading zeros, the longest zero run (>= 2) as `::`. */
export function formatIpv6(bytes: Uint8Array): string {
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[i * 2]! << 8) | bytes[i * 2 + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/**
 * The rate-limit key of a client address: IPv4 as is; IPv6 masked to its first `ipv6Prefix` bits
 * (`2001:db8:1:2::/64`), because one subscriber usually holds a whole /64 and could otherwise
 * rotate through 2^64 keys.
 */
export function ipKey(ip: IpAddress, ipv6Prefix: number): string {
  if (ip.version === 4) return ip.bytes.join('.');
  const masked = new Uint8Array(16);
  const full = ipv6Prefix >> 3;
  masked.set(ip.bytes.subarray(0, full));
  if (ipv6Prefix & 7) masked[full] = ip.bytes[full]! & ((0xff << (8 - (ipv6Prefix & 7))) & 0xff);
  return ipv6Prefix === 128 ? formatIpv6(masked) : `${formatIpv6(masked)}/${ipv6Prefix}`;
}

/** A list of addresses and ranges, matched against parsed addresses. */
export function cidrMatcher(list: readonly string[], where: string): (ip: IpAddress) => boolean {
  if (!Array.isArray(list)) {
    throw new NoaError(
      'NOA_INVALID_OPTION',
      `${where}: pass a list of addresses and CIDR ranges, e.g. ['10.0.0.0/8'], got ${typeof list}`,
    );
  }
  const ranges = list.map((entry) => parseCidr(entry, where));
  return (ip) => ranges.some((range) => cidrContains(range, ip));
}
