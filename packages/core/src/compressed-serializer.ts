import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';
import { invariant, NoaError } from './errors.js';
import type { Serializer } from './serializer.js';

export interface CompressionOptions {
  algorithm: 'gzip' | 'brotli';
  /** Payloads smaller than this are stored uncompressed (compression would cost more than it saves). Default 1024. */
  thresholdBytes?: number;
  /** gzip level 1–9 or brotli quality 0–11; defaults favour speed (gzip 6, brotli 4). */
  level?: number;
}

// One header byte says how the rest is stored, so the threshold can change without breaking old data.
const RAW = 0;
const GZIP = 1;
const BROTLI = 2;

/** Wraps a serializer and compresses its output above a size threshold. */
export function compressedSerializer(inner: Serializer, options: CompressionOptions): Serializer {
  const { algorithm, thresholdBytes = 1024 } = options;
  invariant(
    algorithm === 'gzip' || algorithm === 'brotli',
    `compressedSerializer: algorithm must be 'gzip' or 'brotli', got ${String(algorithm)}`,
  );
  invariant(
    Number.isInteger(thresholdBytes) && thresholdBytes >= 0,
    'compressedSerializer: thresholdBytes must be a non-negative integer',
  );
  const level = options.level ?? (algorithm === 'gzip' ? 6 : 4);
  const compress =
    algorithm === 'gzip'
      ? (bytes: Uint8Array) => gzipSync(bytes, { level })
      : (bytes: Uint8Array) =>
          brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: level } });
  const tag = algorithm === 'gzip' ? GZIP : BROTLI;

  const frame = (kind: number, body: Uint8Array) => {
    const out = new Uint8Array(body.byteLength + 1);
    out[0] = kind;
    out.set(body, 1);
    return out;
  };

  return {
    name: `${inner.name}+${algorithm}`,
    encode(value) {
      const raw = inner.encode(value);
      if (raw.byteLength < thresholdBytes) return frame(RAW, raw);
      const packed = compress(raw);
      return packed.byteLength < raw.byteLength ? frame(tag, packed) : frame(RAW, raw);
    },
    decode(bytes) {
      if (bytes.byteLength === 0) {
        throw new NoaError(
          'NOA_DESERIALIZE_FAILED',
          'compressedSerializer: empty payload (missing header byte)',
        );
      }
      const body = bytes.subarray(1);
      try {
        switch (bytes[0]) {
          case RAW:
            return inner.decode(body);
          case GZIP:
            return inner.decode(gunzipSync(body));
          case BROTLI:
            return inner.decode(brotliDecompressSync(body));
        }
      } catch (cause) {
        if (cause instanceof NoaError) throw cause;
        throw new NoaError(
          'NOA_DESERIALIZE_FAILED',
          'compressedSerializer: payload is corrupt and cannot be decompressed',
          { cause },
        );
      }
      throw new NoaError(
        'NOA_DESERIALIZE_FAILED',
        `compressedSerializer: unknown header byte ${bytes[0]}; was this written by another serializer?`,
      );
    },
  };
}
