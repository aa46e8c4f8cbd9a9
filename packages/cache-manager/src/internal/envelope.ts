import { NoaError, type Serializer } from '@noa/core';
import type { StoredEntry } from '../tier.js';

// [format u8 = 1][freshUntil f64][staleUntil f64][deltaMs f64][meta length u32][meta JSON][value bytes]
// The metadata is read without touching the value's serializer, so any serializer fits.
const FORMAT = 1;
const HEADER = 1 + 8 * 3 + 4;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeEntry(entry: StoredEntry, serializer: Serializer): Buffer {
  const value = serializer.encode(entry.value);
  const meta = entry.tags
    ? encoder.encode(JSON.stringify([entry.tags, entry.tagVersions]))
    : new Uint8Array();
  const out = Buffer.allocUnsafe(HEADER + meta.length + value.length);
  out.writeUInt8(FORMAT, 0);
  out.writeDoubleBE(entry.freshUntil, 1);
  out.writeDoubleBE(entry.staleUntil, 9);
  out.writeDoubleBE(entry.deltaMs, 17);
  out.writeUInt32BE(meta.length, 25);
  out.set(meta, HEADER);
  out.set(value, HEADER + meta.length);
  return out;
}

export function decodeEntry(bytes: Buffer, serializer: Serializer): StoredEntry {
  if (bytes.length < HEADER || bytes[0] !== FORMAT) {
    throw new NoaError(
      'NOA_DESERIALIZE_FAILED',
      'cache entry has an unknown format; was the key written by something other than @noa/cache-manager?',
    );
  }
  const metaLength = bytes.readUInt32BE(25);
  const entry: StoredEntry = {
    value: serializer.decode(bytes.subarray(HEADER + metaLength)),
    freshUntil: bytes.readDoubleBE(1),
    staleUntil: bytes.readDoubleBE(9),
    deltaMs: bytes.readDoubleBE(17),
  };
  if (metaLength > 0) {
    const [tags, tagVersions] = JSON.parse(decoder.decode(bytes.subarray(HEADER, HEADER + metaLength)));
    entry.tags = tags;
    entry.tagVersions = tagVersions;
  }
  return entry;
}
