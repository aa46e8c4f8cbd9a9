import { BlockList } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientIpResolver } from '../src/internal/client-ip.js';
import { cidrContains, formatIpv6, ipKey, parseCidr, parseIp } from '../src/internal/ip.js';

const v6 = fc.ipV6();
const v4 = fc.ipV4();

describe('IP parsing', () => {
  it('round-trips IPv6 through bytes and RFC 5952 text', () => {
    fc.assert(
      fc.property(v6, (text) => {
        const ip = parseIp(text)!;
        expect(ip).toBeDefined();
        if (ip.version === 6) expect(parseIp(formatIpv6(ip.bytes))!.bytes).toEqual(ip.bytes);
      }),
    );
  });

  it('formats like the WHATWG URL parser (canonical compressed form)', () => {
    fc.assert(
      fc.property(v6, (text) => {
        const ip = parseIp(text)!;
        if (ip.version === 4) return;
        expect(formatIpv6(ip.bytes)).toBe(new URL(`http://[${text}]/`).hostname.slice(1, -1));
      }),
    );
  });

  it('treats IPv4-mapped IPv6 as IPv4, drops zone ids and brackets, rejects garbage', () => {
    expect(parseIp('::ffff:203.0.113.9')).toEqual({ version: 4, bytes: Uint8Array.from([203, 0, 113, 9]) });
    expect(parseIp('::ffff:cb00:7109')?.version).toBe(4);
    expect(parseIp('fe80::1%eth0')).toEqual(parseIp('fe80::1'));
    expect(parseIp('[2001:db8::1]')).toEqual(parseIp('2001:db8::1'));
    for (const bad of ['', 'localhost', '1.2.3', '2001:db8::1::2', '1.2.3.256', '::g'])
      expect(parseIp(bad)).toBeUndefined();
  });

  it('matches CIDR ranges exactly as node:net BlockList does (IPv4 and IPv6)', () => {
    fc.assert(
      fc.property(v4, v4, fc.integer({ min: 0, max: 32 }), (net, addr, prefix) => {
        const list = new BlockList();
        list.addSubnet(net, prefix, 'ipv4');
        expect(cidrContains(parseCidr(`${net}/${prefix}`, 'test'), parseIp(addr)!)).toBe(
          list.check(addr, 'ipv4'),
        );
      }),
    );
    fc.assert(
      fc.property(v6, v6, fc.integer({ min: 0, max: 128 }), (net, addr, prefix) => {
        const a = parseIp(addr)!;
        const n = parseIp(net)!;
        fc.pre(a.version === 6 && n.version === 6);
        const list = new BlockList();
        list.addSubnet(net, prefix, 'ipv6');
        expect(cidrContains(parseCidr(`${net}/${prefix}`, 'test'), a)).toBe(list.check(addr, 'ipv6'));
      }),
    );
  });

  it('rejects malformed CIDR entries with a clear error', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', 'x/8', '2001:db8::/129', '1.2.3.4/8/9']) {
      expect(() => parseCidr(bad, 'deny')).toThrow(/deny: ".*" is not an IP address or CIDR range/);
    }
  });

  it('keys IPv6 clients by their network prefix', () => {
    expect(ipKey(parseIp('2001:db8:1:2:aaaa::1')!, 64)).toBe('2001:db8:1:2::/64');
    expect(ipKey(parseIp('2001:db8:1:2:aaaa::1')!, 48)).toBe('2001:db8:1::/48');
    expect(ipKey(parseIp('2001:db8:1:2:aaaa::1')!, 128)).toBe('2001:db8:1:2:aaaa::1');
    expect(ipKey(parseIp('2001:db8:1:ff::1')!, 56)).toBe('2001:db8:1::/56');
    expect(ipKey(parseIp('203.0.113.9')!, 64)).toBe('203.0.113.9');
    fc.assert(
      fc.property(v6, fc.integer({ min: 1, max: 127 }), (text, prefix) => {
        const ip = parseIp(text)!;
        if (ip.version === 4) return;
        const key = ipKey(ip, prefix);
        expect(cidrContains(parseCidr(key, 'key'), ip)).toBe(true);
      }),
    );
  });
});

describe('client address behind proxies', () => {
  it('uses the socket peer unless proxies are trusted', () => {
    const resolve = clientIpResolver(false);
    expect(resolve('10.0.0.1', '198.51.100.1')).toEqual(parseIp('10.0.0.1'));
  });

  it('walks X-Forwarded-For from the nearest hop while the hop is a trusted proxy', () => {
    const byList = clientIpResolver(['10.0.0.0/8']);
    expect(byList('10.0.0.1', '203.0.113.5, 198.51.100.1, 10.0.0.2')).toEqual(parseIp('198.51.100.1'));
    expect(byList('192.0.2.1', '198.51.100.1')).toEqual(parseIp('192.0.2.1'));
    const byHops = clientIpResolver(1);
    expect(byHops('10.0.0.1', ['203.0.113.5', '198.51.100.1'])).toEqual(parseIp('198.51.100.1'));
    expect(clientIpResolver(true)('10.0.0.1', '203.0.113.5, 198.51.100.1')).toEqual(parseIp('203.0.113.5'));
    // A malformed entry stops the walk at the last address we could believe.
    expect(byList('10.0.0.1', '203.0.113.5, nonsense')).toEqual(parseIp('10.0.0.1'));
    expect(byList('::ffff:10.0.0.1', '2001:db8::7')).toEqual(parseIp('2001:db8::7'));
  });
});
