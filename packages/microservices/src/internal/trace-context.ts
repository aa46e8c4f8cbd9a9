import { randomBytes, randomUUID } from 'node:crypto';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

// Span ids only need to be unique within a trace: a random per-process prefix plus a counter is,
// and costs no entropy per call (this runs on every request).
const SPAN_PREFIX = randomBytes(4).toString('hex');
let spanCounter = randomBytes(4).readUInt32BE(0);
const spanId = () => {
  spanCounter = (spanCounter + 1) >>> 0;
  return SPAN_PREFIX + spanCounter.toString(16).padStart(8, '0');
};
/** 32 hex digits for a trace id (version/variant nibbles of the UUID included: still unique). */
const traceId = () => {
  const uuid = randomUUID();
  return uuid.slice(0, 8) + uuid.slice(9, 13) + uuid.slice(14, 18) + uuid.slice(19, 23) + uuid.slice(24);
};

/**
 * The W3C `traceparent` for an outgoing call: the same trace id and flags as the incoming one with
 * a new parent span id, or a new sampled trace when there is none (or it is malformed, as the spec
 * asks: a receiver must not propagate an invalid value).
 */
export function childTraceparent(incoming: string | undefined): string {
  const match = incoming ? TRACEPARENT.exec(incoming.trim().toLowerCase()) : null;
  if (match && match[1] !== ZERO_TRACE && match[2] !== ZERO_SPAN)
    return `00-${match[1]}-${spanId()}-${match[3]}`;
  return `00-${traceId()}-${spanId()}-01`;
}

/** The trace id of a valid traceparent. */
/** A request id: the incoming one when it is sane (printable, at most 200 chars), else a new UUID. */
export function requestIdFrom(incoming: string | string[] | undefined): string {
  const value = Array.isArray(incoming) ? incoming[0] : incoming;
  return value && value.length <= 200 && /^[\x21-\x7e]+$/.test(value) ? value : randomUUID();
}
