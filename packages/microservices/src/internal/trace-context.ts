import { randomFillSync } from 'node:crypto';

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const PRINTABLE = /^[\x21-\x7e]+$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

// Ids are made on every request: entropy comes from one pooled buffer, refilled and hex-encoded
// 4 KiB at a time (one getrandom call per ~170 new traces), and each id is a substring of it.
const entropy = Buffer.allocUnsafe(4096);
let entropyHex = '';
let entropyOffset = 0;

/** `digits` fresh random lowercase hex digits. */
function randomHex(digits: number): string {
  if (entropyOffset + digits > entropyHex.length) {
    randomFillSync(entropy);
    entropyHex = entropy.toString('hex');
    entropyOffset = 0;
  }
  return entropyHex.slice(entropyOffset, (entropyOffset += digits));
}

/** A random 16-hex-digit span id; never all zeros (the spec's invalid value). */
function spanId(): string {
  let id = randomHex(16);
  while (id === ZERO_SPAN) id = randomHex(16);
  return id;
}

/**
 * The W3C `traceparent` for an outgoing call: the same trace id and flags as the incoming one with
 * a new random parent span id, or a new random sampled trace when there is none (or it is
 * malformed, as the spec asks: a receiver must not propagate an invalid value).
 */
export function childTraceparent(incoming: string | undefined): string {
  if (incoming) {
    // Fields sit at fixed offsets: version 0-1, trace id 3-34, parent id 36-51, flags 53-54.
    const value = TRACEPARENT.test(incoming) ? incoming : incoming.trim().toLowerCase();
    if (TRACEPARENT.test(value) && !value.startsWith(ZERO_TRACE, 3) && !value.startsWith(ZERO_SPAN, 36))
      return `${value.slice(0, 36)}${spanId()}${value.slice(52)}`;
  }
  let traceId = randomHex(32);
  while (traceId === ZERO_TRACE) traceId = randomHex(32);
  return `00-${traceId}-${spanId()}-01`;
}

// Request ids only need to be unique, not secret: a UUID-shaped id whose first 98 bits are random
// per process (version 4 and variant nibbles set) and whose last 30 bits count. The counter stays a
// small integer (hex formatting of larger numbers is several times slower); when it wraps, a new
// random prefix is drawn.
let requestIdPrefix = '';
let requestCounter = 0x40000000;

/** A new request id, UUID-shaped and unique (a random per-process prefix and a counter). */
export function newRequestId(): string {
  if (++requestCounter > 0x3fffffff) {
    const hex = randomHex(24).split('');
    hex[12] = '4';
    hex[16] = '89ab'[Number.parseInt(hex[16]!, 16) & 3]!;
    const h = hex.join('');
    requestIdPrefix = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 24)}`;
    requestCounter = 0;
  }
  return requestIdPrefix + requestCounter.toString(16).padStart(8, '0');
}

/** A request id: the incoming one when it is sane (printable, at most 200 chars), else a new one. */
export function requestIdFrom(incoming: string | string[] | undefined): string {
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  return value && value.length <= 200 && PRINTABLE.test(value) ? value : newRequestId();
}
