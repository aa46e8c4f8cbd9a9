import { createHmac } from 'node:crypto';
import { invariant } from '@noa/core';

export interface EdgeAuthOptions {
  /** The token secret, hex encoded, as configured in the Akamai property. */
  key: string;
  /** Default sha256. */
  algorithm?: 'sha256' | 'sha1' | 'md5';
  /** Start of validity: epoch seconds or a Date. Omitted from the token when unset. */
  startTime?: number | Date;
  /** End of validity: epoch seconds or a Date. Or give `windowSeconds`. */
  endTime?: number | Date;
  /** Validity from `startTime` (or now). */
  windowSeconds?: number;
  /** Path patterns the token grants (`/videos/*`); joined with `aclDelimiter`. Exactly one of acl/url. */
  acl?: string | string[];
  /** The single URL path the token grants. Exactly one of acl/url. */
  url?: string;
  ipAddress?: string;
  sessionId?: string;
  payload?: string;
  /** Validated by the edge but not carried in the token. */
  salt?: string;
  /** Default `~`. */
  fieldDelimiter?: string;
  /** Default `!`. */
  aclDelimiter?: string;
  /** URL-encode ip, id, data and url before hashing (legacy 2.0 behaviour). Default false. */
  escapeEarly?: boolean;
}

const seconds = (value: number | Date) =>
  value instanceof Date ? Math.floor(value.getTime() / 1000) : value;

function escapeField(text: string, early: boolean): string {
  if (!early) return text;
  return encodeURIComponent(text)
    .replace(/[~'*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)
    .replace(/%../g, (m) => m.toLowerCase());
}

/**
 * An Akamai EdgeAuth (Auth Token 2.0) token, implemented from the specification Akamai's
 * EdgeAuth-Token libraries implement: `[ip=]~[st=]~exp=~[acl=]~[id=]~[data=]~hmac=`, the HMAC
 * computed over the same fields plus `url=` (URL tokens) and `salt=`. Returns the token value; send it
 * as `__token__=<value>` in a query string, cookie or header.
 */
export function edgeAuthToken(options: EdgeAuthOptions): string {
  const {
    key,
    algorithm = 'sha256',
    fieldDelimiter = '~',
    aclDelimiter = '!',
    escapeEarly = false,
  } = options;
  invariant(
    typeof key === 'string' && /^([0-9a-f]{2})+$/i.test(key),
    'edgeAuthToken: key must be the hex-encoded token secret',
    'NOA_CDN_INVALID_SIGNING_OPTION',
  );
  invariant(
    ['sha256', 'sha1', 'md5'].includes(algorithm),
    'edgeAuthToken: algorithm must be sha256, sha1 or md5',
    'NOA_CDN_INVALID_SIGNING_OPTION',
  );
  invariant(
    (options.acl === undefined) !== (options.url === undefined),
    'edgeAuthToken: give exactly one of acl (path patterns) or url (one path)',
    'NOA_CDN_INVALID_SIGNING_OPTION',
  );
  const start = options.startTime === undefined ? undefined : seconds(options.startTime);
  let end = options.endTime === undefined ? undefined : seconds(options.endTime);
  if (end === undefined) {
    invariant(
      options.windowSeconds !== undefined && options.windowSeconds > 0,
      'edgeAuthToken: give endTime or a windowSeconds > 0',
      'NOA_CDN_INVALID_SIGNING_OPTION',
    );
    end = (start ?? Math.floor(Date.now() / 1000)) + options.windowSeconds;
  }
  invariant(
    start === undefined || end > start,
    'edgeAuthToken: the token would already be expired (endTime <= startTime)',
    'NOA_CDN_INVALID_SIGNING_OPTION',
  );
  const fields: string[] = [];
  if (options.ipAddress) fields.push(`ip=${escapeField(options.ipAddress, escapeEarly)}`);
  if (start !== undefined) fields.push(`st=${start}`);
  fields.push(`exp=${end}`);
  if (options.acl !== undefined)
    fields.push(`acl=${Array.isArray(options.acl) ? options.acl.join(aclDelimiter) : options.acl}`);
  if (options.sessionId) fields.push(`id=${escapeField(options.sessionId, escapeEarly)}`);
  if (options.payload) fields.push(`data=${escapeField(options.payload, escapeEarly)}`);
  const signed = [...fields];
  if (options.url !== undefined) signed.push(`url=${escapeField(options.url, escapeEarly)}`);
  if (options.salt) signed.push(`salt=${options.salt}`);
  const hmac = createHmac(algorithm, Buffer.from(key, 'hex'))
    .update(signed.join(fieldDelimiter))
    .digest('hex');
  return [...fields, `hmac=${hmac}`].join(fieldDelimiter);
}
