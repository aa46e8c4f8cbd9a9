import { invariant } from '@noa/core';
import { cidrMatcher, type IpAddress, parseIp } from './ip.js';

/**
 * Which proxies in front of the app to believe when they name the client in `X-Forwarded-For`:
 * `false` (default: the socket's peer is the client), `true` (every hop; only behind a proxy
 * that overwrites the header), a number of hops, or the proxies' addresses and CIDR ranges.
 */
export type TrustProxy = boolean | number | readonly string[];

/** Resolves the client address from the socket peer and `X-Forwarded-For`, per `trustProxy`. */
export function clientIpResolver(
  trustProxy: TrustProxy = false,
): (remoteAddress: string | undefined, forwardedFor: string | string[] | undefined) => IpAddress | undefined {
  let trusted: (ip: IpAddress, hop: number) => boolean;
  if (typeof trustProxy === 'boolean') trusted = () => trustProxy;
  else if (typeof trustProxy === 'number') {
    invariant(
      Number.isInteger(trustProxy) && trustProxy >= 0,
      `trustProxy: a number of hops must be an integer >= 0, got ${trustProxy}`,
    );
    trusted = (_ip, hop) => hop < trustProxy;
  } else {
    invariant(
      Array.isArray(trustProxy),
      'trustProxy must be a boolean, a number of hops or a list of addresses/CIDRs',
    );
    const isProxy = cidrMatcher(trustProxy, 'trustProxy');
    trusted = (ip) => isProxy(ip);
  }
  return (remoteAddress, forwardedFor) => {
    let client = parseIp(remoteAddress ?? '');
    if (!client || trustProxy === false || forwardedFor === undefined) return client;
    const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
    const hops = header.split(',');
    // Walk from the nearest hop outwards while the current address is a trusted proxy.
    for (let hop = 0, i = hops.length - 1; i >= 0 && trusted(client, hop); i--, hop++) {
      const next = parseIp(hops[i]!.trim());
      if (!next) break; // a malformed entry: the last trusted proxy is as far as we can believe
      client = next;
    }
    return client;
  };
}
