import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { invariant } from '@noa/core';
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';

export interface JwtAuthOptions {
  /** A JWKS endpoint (keys cached, refreshed on an unknown `kid`, so key rotation just works). */
  jwksUrl?: string;
  /** A shared HMAC secret (at least 32 bytes) instead of JWKS. */
  secret?: string;
  issuer?: string | string[];
  audience?: string | string[];
  /** Accepted algorithms. Default ['HS256'] with a secret, ['RS256', 'PS256', 'ES256', 'EdDSA'] with JWKS. */
  algorithms?: string[];
  /** Clock skew tolerated for exp/nbf, in seconds. Default 5. */
  clockToleranceSec?: number;
  /** Claims passed upstream as headers, e.g. `{ sub: 'x-user-id', role: 'x-user-role' }`. Default `{ sub: 'x-user-id' }`. */
  claimsToHeaders?: Record<string, string>;
  /** How long fetched keys are trusted. Default 600 000. */
  jwksCacheMs?: number;
  /** Least time between two JWKS fetches triggered by unknown keys. Default 30 000. */
  jwksCooldownMs?: number;
  /**
   * Remember successfully verified tokens this long (never past their `exp`; `nbf`/`exp` are
   * checked again on every hit), so a client reusing its token skips the signature check.
   * A key removed from the JWKS stops being honoured after at most this long. Default 60 000; 0 = off.
   */
  verifyCacheMs?: number;
  /** Tokens remembered at most. Default 10 000. */
  verifyCacheSize?: number;
}

export interface ApiKeyAuthOptions {
  /** Default 'x-api-key'. */
  header?: string;
  /** Accepted keys, or key → consumer name. */
  keys: string[] | Record<string, string>;
  /** Header the consumer name is passed upstream in. Default 'x-consumer-id'. */
  consumerHeader?: string;
}

export type RouteAuth = 'none' | { jwt: JwtAuthOptions } | { apiKey: ApiKeyAuthOptions };

export type AuthResult =
  | { ok: true; subject?: string; headers: Record<string, string> }
  | { ok: false; status: 401 | 403; error: string; challenge: string };

export interface Authenticator {
  /** Header names this authenticator sets upstream; incoming copies are always removed. */
  readonly upstreamHeaders: string[];
  /** A credential header to keep from the upstream (the API key). */
  readonly secretHeader?: string;
  authenticate(req: IncomingMessage): Promise<AuthResult>;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

function apiKeyAuthenticator(options: ApiKeyAuthOptions): Authenticator {
  const header = (options.header ?? 'x-api-key').toLowerCase();
  const consumerHeader = (options.consumerHeader ?? 'x-consumer-id').toLowerCase();
  const entries = Array.isArray(options.keys)
    ? options.keys.map((key, i) => [key, `key-${i + 1}`] as const)
    : Object.entries(options.keys);
  invariant(
    entries.length > 0 && entries.every(([k]) => typeof k === 'string' && k.length >= 16),
    'apiKey.keys: give at least one key of 16+ characters',
  );
  // Compare fixed-length digests with timingSafeEqual, against every key: no early exit, no length leak.
  const known = entries.map(([key, consumer]) => ({ hash: digest(key), consumer }));
  return {
    upstreamHeaders: [consumerHeader],
    secretHeader: header,
    async authenticate(req) {
      const value = req.headers[header];
      const presented = Array.isArray(value) ? value[0] : value;
      if (!presented)
        return {
          ok: false,
          status: 401,
          error: `missing ${header} header`,
          challenge: `ApiKey header="${header}"`,
        };
      const hash = digest(presented);
      let consumer: string | undefined;
      for (const key of known) if (timingSafeEqual(hash, key.hash)) consumer = key.consumer;
      if (consumer === undefined)
        return { ok: false, status: 401, error: 'invalid API key', challenge: `ApiKey header="${header}"` };
      return { ok: true, subject: consumer, headers: { [consumerHeader]: consumer } };
    },
  };
}

interface CachedToken {
  payload: JWTPayload;
  /** Epoch ms after which the entry is not used. */
  until: number;
}

/** A bounded map of verified tokens, oldest evicted first (Map keeps insertion order). */
class VerifiedTokens {
  readonly #entries = new Map<string, CachedToken>();
  constructor(
    readonly ttlMs: number,
    readonly size: number,
  ) {}

  get(token: string, nowMs: number, toleranceSec: number): JWTPayload | undefined {
    const entry = this.#entries.get(token);
    if (!entry) return undefined;
    const now = nowMs / 1000;
    const { exp, nbf } = entry.payload;
    if (
      nowMs > entry.until ||
      (exp !== undefined && now > exp + toleranceSec) ||
      (nbf !== undefined && now < nbf - toleranceSec)
    ) {
      this.#entries.delete(token);
      return undefined;
    }
    return entry.payload;
  }

  set(token: string, payload: JWTPayload, nowMs: number): void {
    if (this.#entries.size >= this.size) this.#entries.delete(this.#entries.keys().next().value!);
    const expMs = payload.exp !== undefined ? payload.exp * 1000 : Number.POSITIVE_INFINITY;
    this.#entries.set(token, { payload, until: Math.min(nowMs + this.ttlMs, expMs) });
  }
}

const HMAC_HASH: Record<string, string> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };

/** The secret imported once per HMAC algorithm, so jose does not import it again on every verify. */
function hmacKeys(secret: string, algorithms: string[]): JWTVerifyGetKey {
  const raw = new TextEncoder().encode(secret);
  const keys = new Map(
    algorithms.map((alg) => [
      alg,
      globalThis.crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: HMAC_HASH[alg]! }, false, [
        'verify',
      ]),
    ]),
  );
  return async (header) => {
    const key = keys.get(header.alg ?? '');
    if (!key) throw Object.assign(new Error('algorithm not allowed'), { code: 'ERR_JOSE_ALG_NOT_ALLOWED' });
    return key;
  };
}

function jwtAuthenticator(options: JwtAuthOptions): Authenticator {
  invariant(
    Boolean(options.jwksUrl) !== Boolean(options.secret),
    'auth.jwt: give exactly one of jwksUrl or secret',
  );
  let key: JWTVerifyGetKey;
  let algorithms: string[];
  if (options.secret) {
    invariant(
      Buffer.byteLength(options.secret) >= 32,
      'auth.jwt.secret must be at least 32 bytes (HS256 keys shorter than the hash are weak)',
    );
    algorithms = options.algorithms ?? ['HS256'];
    invariant(
      algorithms.every((a) => a in HMAC_HASH),
      'auth.jwt: a secret only verifies HS256/384/512; use jwksUrl for asymmetric keys',
    );
    key = hmacKeys(options.secret, algorithms);
  } else {
    let url: URL;
    try {
      url = new URL(options.jwksUrl!);
    } catch {
      throw new Error(`auth.jwt.jwksUrl is not a URL: ${options.jwksUrl}`);
    }
    key = createRemoteJWKSet(url, {
      cacheMaxAge: options.jwksCacheMs ?? 600_000,
      cooldownDuration: options.jwksCooldownMs ?? 30_000,
      timeoutDuration: 5_000,
    });
    algorithms = options.algorithms ?? ['RS256', 'PS256', 'ES256', 'EdDSA'];
    // An HMAC algorithm next to public keys is the classic algorithm-confusion hole.
    invariant(
      algorithms.every((a) => !a.startsWith('HS')),
      'auth.jwt: HS* algorithms cannot be used with a JWKS of public keys',
    );
  }
  invariant(
    algorithms.length > 0 && !algorithms.includes('none'),
    'auth.jwt.algorithms must not be empty or include "none"',
  );
  const claims = Object.entries(options.claimsToHeaders ?? { sub: 'x-user-id' }).map(
    ([c, h]) => [c, h.toLowerCase()] as const,
  );
  const verifyOptions = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms,
    clockTolerance: options.clockToleranceSec ?? 5,
  };
  const { verifyCacheMs = 60_000, verifyCacheSize = 10_000 } = options;
  invariant(
    verifyCacheMs >= 0 && Number.isInteger(verifyCacheSize) && verifyCacheSize > 0,
    'auth.jwt: verifyCacheMs must be >= 0 and verifyCacheSize an integer > 0',
  );
  const cache = verifyCacheMs > 0 ? new VerifiedTokens(verifyCacheMs, verifyCacheSize) : undefined;
  const fail = (error: string): AuthResult => ({
    ok: false,
    status: 401,
    error,
    challenge: `Bearer error="invalid_token"`,
  });
  return {
    upstreamHeaders: claims.map(([, h]) => h),
    async authenticate(req) {
      const header = req.headers.authorization;
      const match = header ? /^Bearer\s+([A-Za-z0-9_\-.=]+)\s*$/i.exec(header) : null;
      if (!match) return { ok: false, status: 401, error: 'missing bearer token', challenge: 'Bearer' };
      const token = match[1]!;
      const now = Date.now();
      let payload = cache?.get(token, now, verifyOptions.clockTolerance);
      if (!payload)
        try {
          ({ payload } = await jwtVerify(token, key, verifyOptions));
          cache?.set(token, payload, now);
        } catch (error) {
          const code = (error as { code?: string }).code ?? '';
          const reason =
            code === 'ERR_JWT_EXPIRED'
              ? 'token expired'
              : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
                ? `token claim invalid: ${(error as { claim?: string }).claim ?? ''}`
                : code === 'ERR_JOSE_ALG_NOT_ALLOWED'
                  ? 'token algorithm not allowed'
                  : 'token invalid';
          return fail(reason);
        }
      const headers: Record<string, string> = {};
      for (const [claim, name] of claims) {
        const value = payload[claim];
        if (value === undefined) continue;
        headers[name] = typeof value === 'string' ? value : JSON.stringify(value);
      }
      return { ok: true, subject: typeof payload.sub === 'string' ? payload.sub : undefined, headers };
    },
  };
}

export function createAuthenticator(auth: RouteAuth | undefined): Authenticator | undefined {
  if (auth === undefined || auth === 'none') return undefined;
  if ('jwt' in auth) return jwtAuthenticator(auth.jwt);
  if ('apiKey' in auth) return apiKeyAuthenticator(auth.apiKey);
  throw new Error("auth must be 'none', { jwt } or { apiKey }");
}
