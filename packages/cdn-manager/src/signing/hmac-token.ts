import { createHmac } from 'node:crypto';
import { invariant } from '@noa/core';
import { appendQuery, epochSeconds } from '../internal/normalize.js';

export interface FastlyTokenOptions {
  /** The shared secret, base64 encoded, as in Fastly's token-validation VCL. */
  secret: string;
  expiresAt: Date | number;
}

/**
 * Fastly's URL token form (the "Enabling URL token validation" guide and fastly/token-functions):
 * `<expiration>_<hex HMAC-SHA1(base64-decoded secret, path + expiration)>`, sent as `?token=`.
 */
export function fastlyToken(path: string, options: FastlyTokenOptions): string {
  invariant(options.secret, 'fastlyToken: secret (base64) is required', 'NOA_CDN_INVALID_SIGNING_OPTION');
  invariant(
    path.startsWith('/'),
    'fastlyToken: sign the URL path, starting with /',
    'NOA_CDN_INVALID_SIGNING_OPTION',
  );
  const expiration = epochSeconds(options.expiresAt);
  const mac = createHmac('sha1', Buffer.from(options.secret, 'base64'))
    .update(`${path}${expiration}`)
    .digest('hex');
  return `${expiration}_${mac}`;
}

export interface CloudflareTokenOptions {
  /** The secret given to `is_timed_hmac_valid_v0()` in the WAF rule. */
  secret: string;
  /** The token's issue time; the rule's ttl counts from it. Default now. */
  issuedAt?: Date | number;
}

/**
 * Cloudflare's timed HMAC token (`is_timed_hmac_valid_v0`, "Configure token authentication"):
 * `<timestamp>-<base64 HMAC-SHA256(secret, message + timestamp)>`, sent URL-encoded as `?verify=`.
 * With the documented rule (`http.request.uri`, separator length 8) the message is the path plus
 * any query string before `?verify=` / `&verify=`.
 */
export function cloudflareToken(path: string, options: CloudflareTokenOptions): string {
  invariant(options.secret, 'cloudflareToken: secret is required', 'NOA_CDN_INVALID_SIGNING_OPTION');
  invariant(
    path.startsWith('/'),
    'cloudflareToken: sign the URL path, starting with /',
    'NOA_CDN_INVALID_SIGNING_OPTION',
  );
  const timestamp = epochSeconds(options.issuedAt ?? Date.now());
  const mac = createHmac('sha256', options.secret).update(`${path}${timestamp}`).digest('base64');
  return `${timestamp}-${mac}`;
}

/** Adds `name=value` (URL-encoded) to a URL's query string. */
export function withQueryParam(url: string, name: string, value: string): string {
  return appendQuery(url, `${name}=${encodeURIComponent(value)}`);
}
