import { add64, HI, LO, mul64, R, rotl64 } from './u64.js';

// XXH64 (https://github.com/Cyan4973/xxHash), specified for little-endian reads on every platform,
// so a key maps to the same hash in every process, Node version and language.
const P1H = 0x9e3779b1;
const P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d;
const P2L = 0x27d4eb4f;
const P3H = 0x165667b1;
const P3L = 0x9e3779f9;
const P4H = 0x85ebca77;
const P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f;
const P5L = 0x165667c5;
// 2^64 - PRIME64_1, for v4 = seed - PRIME64_1.
const NP1H = 0x61c8864e;
const NP1L = 0x7a143579;

const read32 = (b: Uint8Array, i: number) =>
  (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

/** R = round(acc, input) = rotl(acc + input * P2, 31) * P1. */
function round(accH: number, accL: number, inH: number, inL: number): void {
  mul64(inH, inL, P2H, P2L);
  add64(accH, accL, R[HI], R[LO]);
  rotl64(R[HI], R[LO], 31);
  mul64(R[HI], R[LO], P1H, P1L);
}

/** R = (acc ^ round(0, val)) * P1 + P4. */
function mergeRound(accH: number, accL: number, valH: number, valL: number): void {
  round(0, 0, valH, valL);
  mul64((accH ^ R[HI]) >>> 0, (accL ^ R[LO]) >>> 0, P1H, P1L);
  add64(R[HI], R[LO], P4H, P4L);
}

/**
 * XXH64 of `bytes[0, length)` with a 32-bit seed; the result is left in `R` (hi, lo).
 * Internal hot path: no allocation.
 */
export function xxh64Into(bytes: Uint8Array, length: number, seed: number): void {
  let p = 0;
  let hH: number;
  let hL: number;
  const seedL = seed >>> 0;
  if (length >= 32) {
    add64(0, seedL, P1H, P1L);
    add64(R[HI], R[LO], P2H, P2L);
    let v1h = R[HI];
    let v1l = R[LO];
    add64(0, seedL, P2H, P2L);
    let v2h = R[HI];
    let v2l = R[LO];
    let v3h = 0;
    let v3l = seedL;
    add64(0, seedL, NP1H, NP1L);
    let v4h = R[HI];
    let v4l = R[LO];
    const limit = length - 32;
    do {
      round(v1h, v1l, read32(bytes, p + 4), read32(bytes, p));
      v1h = R[HI];
      v1l = R[LO];
      round(v2h, v2l, read32(bytes, p + 12), read32(bytes, p + 8));
      v2h = R[HI];
      v2l = R[LO];
      round(v3h, v3l, read32(bytes, p + 20), read32(bytes, p + 16));
      v3h = R[HI];
      v3l = R[LO];
      round(v4h, v4l, read32(bytes, p + 28), read32(bytes, p + 24));
      v4h = R[HI];
      v4l = R[LO];
      p += 32;
    } while (p <= limit);
    rotl64(v1h, v1l, 1);
    hH = R[HI];
    hL = R[LO];
    rotl64(v2h, v2l, 7);
    add64(hH, hL, R[HI], R[LO]);
    hH = R[HI];
    hL = R[LO];
    rotl64(v3h, v3l, 12);
    add64(hH, hL, R[HI], R[LO]);
    hH = R[HI];
    hL = R[LO];
    rotl64(v4h, v4l, 18);
    add64(hH, hL, R[HI], R[LO]);
    mergeRound(R[HI], R[LO], v1h, v1l);
    mergeRound(R[HI], R[LO], v2h, v2l);
    mergeRound(R[HI], R[LO], v3h, v3l);
    mergeRound(R[HI], R[LO], v4h, v4l);
    hH = R[HI];
    hL = R[LO];
  } else {
    add64(0, seedL, P5H, P5L);
    hH = R[HI];
    hL = R[LO];
  }
  add64(hH, hL, Math.floor(length / 0x100000000), length >>> 0);
  hH = R[HI];
  hL = R[LO];
  while (p + 8 <= length) {
    round(0, 0, read32(bytes, p + 4), read32(bytes, p));
    rotl64((hH ^ R[HI]) >>> 0, (hL ^ R[LO]) >>> 0, 27);
    mul64(R[HI], R[LO], P1H, P1L);
    add64(R[HI], R[LO], P4H, P4L);
    hH = R[HI];
    hL = R[LO];
    p += 8;
  }
  if (p + 4 <= length) {
    mul64(0, read32(bytes, p), P1H, P1L);
    rotl64((hH ^ R[HI]) >>> 0, (hL ^ R[LO]) >>> 0, 23);
    mul64(R[HI], R[LO], P2H, P2L);
    add64(R[HI], R[LO], P3H, P3L);
    hH = R[HI];
    hL = R[LO];
    p += 4;
  }
  while (p < length) {
    mul64(0, bytes[p]!, P5H, P5L);
    rotl64((hH ^ R[HI]) >>> 0, (hL ^ R[LO]) >>> 0, 11);
    mul64(R[HI], R[LO], P1H, P1L);
    hH = R[HI];
    hL = R[LO];
    p++;
  }
  // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32.
  hL = (hL ^ (hH >>> 1)) >>> 0;
  mul64(hH, hL, P2H, P2L);
  hH = R[HI];
  hL = (R[LO] ^ ((R[LO] >>> 29) | (R[HI] << 3))) >>> 0;
  hH = (hH ^ (hH >>> 29)) >>> 0;
  mul64(hH, hL, P3H, P3L);
  R[LO] = (R[LO] ^ R[HI]) >>> 0;
}
