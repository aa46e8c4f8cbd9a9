import { createSign, type KeyObject } from 'node:crypto';
import { invariant } from '@noa/core';
import { appendQuery, epochSeconds } from '../internal/normalize.js';

export interface CloudFrontSigningOptions {
  /** The public key's id in the CloudFront key group (or a legacy key pair id). */
  keyPairId: string;
  /** The PEM private key (or a KeyObject) matching that public key. */
  privateKey: string | KeyObject;
  expiresAt: Date | number;
  /** Custom policy: not valid before. */
  startsAt?: Date | number;
  /** Custom policy: only this IP or CIDR (`203.0.113.7` or `203.0.113.0/24`). */
  ipAddress?: string;
  /**
   * Custom policy: the resource the policy grants, with `*` wildcards (`https://d111.cloudfront.net/videos/*`).
   * Default: the URL itself. One policy can then sign many URLs (or cookies for a whole path).
   */
  resource?: string;
}

/** CloudFront's URL-safe base64: + -> -, = -> _, / -> ~ (its documented substitutions). */
export const cloudFrontBase64 = (data: string | Buffer) =>
  Buffer.from(data)
    .toString('base64')
    .replace(/[+=/]/g, (c) => (c === '+' ? '-' : c === '=' ? '_' : '~'));

function cidr(ip: string): string {
  const [address, mask = '32'] = ip.split('/');
  const octets = address!.split('.');
  invariant(
    octets.length === 4 && octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255),
    `CloudFront signing: ipAddress "${ip}" must be an IPv4 address or CIDR`,
    'NOA_CDN_INVALID_SIGNING_OPTION',
  );
  invariant(
    /^\d{1,2}$/.test(mask) && Number(mask) <= 32,
    `CloudFront signing: "${ip}" has an invalid mask`,
    'NOA_CDN_INVALID_SIGNING_OPTION',
  );
  return `${address}/${mask}`;
}

interface Signed {
  canned: boolean;
  policy: string;
  expires: number;
  signature: string;
}

/**
 * Builds the policy (canned when only an expiry is given, custom otherwise) and signs it with
 * RSA-SHA1, as CloudFront's "Creating a signed URL" documentation specifies.
 */
export function signCloudFrontPolicy(url: string, options: CloudFrontSigningOptions): Signed {
  invariant(options.keyPairId, 'CloudFront signing: keyPairId is required', 'NOA_CDN_INVALID_SIGNING_OPTION');
  invariant(
    options.privateKey,
    'CloudFront signing: privateKey is required',
    'NOA_CDN_INVALID_SIGNING_OPTION',
  );
  const expires = epochSeconds(options.expiresAt);
  invariant(
    Number.isFinite(expires),
    'CloudFront signing: expiresAt must be a Date or epoch ms',
    'NOA_CDN_INVALID_SIGNING_OPTION',
  );
  const canned =
    options.startsAt === undefined && options.ipAddress === undefined && options.resource === undefined;
  const condition: Record<string, unknown> = { DateLessThan: { 'AWS:EpochTime': expires } };
  if (options.startsAt !== undefined) {
    const starts = epochSeconds(options.startsAt);
    invariant(
      starts < expires,
      'CloudFront signing: startsAt must be before expiresAt',
      'NOA_CDN_INVALID_SIGNING_OPTION',
    );
    condition.DateGreaterThan = { 'AWS:EpochTime': starts };
  }
  if (options.ipAddress !== undefined) condition.IpAddress = { 'AWS:SourceIp': cidr(options.ipAddress) };
  const policy = JSON.stringify({ Statement: [{ Resource: options.resource ?? url, Condition: condition }] });
  const signature = cloudFrontBase64(createSign('RSA-SHA1').update(policy).sign(options.privateKey));
  return { canned, policy, expires, signature };
}

/** A CloudFront signed URL (canned or custom policy). */
export function signCloudFrontUrl(url: string, options: CloudFrontSigningOptions): string {
  const signed = signCloudFrontPolicy(url, options);
  const params = signed.canned
    ? `Expires=${signed.expires}&Signature=${signed.signature}&Key-Pair-Id=${options.keyPairId}`
    : `Policy=${cloudFrontBase64(signed.policy)}&Signature=${signed.signature}&Key-Pair-Id=${options.keyPairId}`;
  return appendQuery(url, params);
}

/** The three `CloudFront-*` cookies that grant access (canned or custom policy). */
export function signCloudFrontCookies(
  url: string,
  options: CloudFrontSigningOptions,
): Record<string, string> {
  const signed = signCloudFrontPolicy(url, options);
  return signed.canned
    ? {
        'CloudFront-Expires': String(signed.expires),
        'CloudFront-Signature': signed.signature,
        'CloudFront-Key-Pair-Id': options.keyPairId,
      }
    : {
        'CloudFront-Policy': cloudFrontBase64(signed.policy),
        'CloudFront-Signature': signed.signature,
        'CloudFront-Key-Pair-Id': options.keyPairId,
      };
}
