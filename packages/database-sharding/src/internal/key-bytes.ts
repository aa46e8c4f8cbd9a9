import { NoaError } from '@noa/core';

/**
 * Shard keys become bytes before hashing: strings as UTF-8, numbers as their shortest decimal
 * string (`String(n)`), so `42` and `'42'` land on the same shard and any language can reproduce
 * the mapping from the documented rule. One buffer is reused: a lookup allocates nothing.
 */
let buffer = new Uint8Array(256);

/** Writes the key's canonical bytes into the shared buffer and returns it with the length. */
export function keyBytes(key: unknown): number {
  let text: string;
  if (typeof key === 'string') text = key;
  else if (typeof key === 'number') {
    if (!Number.isFinite(key)) {
      throw new NoaError(
        'NOA_SHARDING_INVALID_KEY',
        `Shard key ${key} is not a finite number; use a finite number or a string.`,
      );
    }
    text = String(key);
  } else {
    throw new NoaError(
      'NOA_SHARDING_INVALID_KEY',
      `Shard key of type ${key === null ? 'null' : typeof key} is not supported; pass a string or a finite number.`,
    );
  }
  return utf8Into(text);
}

export function sharedBuffer(): Uint8Array {
  return buffer;
}

/** UTF-8 encode without a TextEncoder allocation; lone surrogates become U+FFFD like TextEncoder. */
export function utf8Into(text: string): number {
  if (buffer.length < text.length * 3) buffer = new Uint8Array(text.length * 3 + 64);
  const out = buffer;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out[n++] = c;
    } else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = text.charCodeAt(i + 1);
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          out[n++] = 0xf0 | (c >> 18);
          out[n++] = 0x80 | ((c >> 12) & 0x3f);
          out[n++] = 0x80 | ((c >> 6) & 0x3f);
          out[n++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}
