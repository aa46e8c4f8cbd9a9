import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import xxhashWasm from 'xxhash-wasm';
import { jumpBucket, xxhash64 } from '../src/index.js';

const reference = await xxhashWasm();

/** Jump consistent hash exactly as in the paper, in BigInt. */
function referenceJump(key: bigint, buckets: number): number {
  let b = -1n;
  let j = 0n;
  while (j < BigInt(buckets)) {
    b = j;
    key = (key * 2862933555777941757n + 1n) & 0xffffffffffffffffn;
    j = BigInt(Math.floor(Number(b + 1n) * (2 ** 31 / Number((key >> 33n) + 1n))));
  }
  return Number(b);
}

describe('xxhash64 (pure JS, no BigInt on the hot path)', () => {
  it('matches the published test vectors', () => {
    expect(xxhash64('')).toBe(0xef46db3751d8e999n);
    expect(xxhash64('a')).toBe(0xd24ec4f1a98c6e5bn);
    expect(xxhash64('abc')).toBe(0x44bc2cf5ad770999n);
  });

  it('matches the reference implementation (xxhash-wasm) for any bytes and seed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 0xffffffff }), (bytes, seed) => {
        expect(xxhash64(bytes, seed)).toBe(reference.h64Raw(bytes, BigInt(seed)));
      }),
      { numRuns: 500 },
    );
  });

  it('hashes strings as UTF-8 (astral characters and lone surrogates included)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (text) => {
        expect(xxhash64(text)).toBe(reference.h64Raw(new TextEncoder().encode(text)));
      }),
      { numRuns: 500 },
    );
  });

  it('hashes numbers as their decimal string', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        expect(xxhash64(n)).toBe(xxhash64(String(n)));
      }),
    );
  });

  it('rejects keys that have no stable byte form', () => {
    expect(() => xxhash64(Number.NaN)).toThrow(expect.objectContaining({ code: 'NOA_SHARDING_INVALID_KEY' }));
    expect(() => xxhash64(null as never)).toThrow(
      expect.objectContaining({ code: 'NOA_SHARDING_INVALID_KEY' }),
    );
    expect(() => xxhash64({} as never)).toThrow(/string or a finite number/);
    expect(() => xxhash64('x', -1)).toThrow(expect.objectContaining({ code: 'NOA_INVALID_OPTION' }));
  });
});

describe('jumpBucket', () => {
  it('matches the paper’s algorithm computed with BigInt', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
        fc.integer({ min: 1, max: 5000 }),
        (key, n) => {
          expect(jumpBucket(Number(key >> 32n), Number(key & 0xffffffffn), n)).toBe(referenceJump(key, n));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
