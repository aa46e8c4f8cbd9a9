/**
 * Unsigned 64-bit arithmetic on (hi, lo) pairs of uint32 numbers. BigInt would allocate on every
 * operation and cost microseconds per key. Results land in `R[HI]`, `R[LO]` (read them at once:
 * the next call overwrites them); a typed array because V8 boxes uint32 values above 2^30 stored
 * in object fields or closures, which allocated on every step.
 */
export const R = new Uint32Array(2) as Uint32Array & { 0: number; 1: number };
export const HI = 0 as const;
export const LO = 1 as const;

/** R = a * b mod 2^64. */
export function mul64(ah: number, al: number, bh: number, bl: number): void {
  // The full 64-bit product of the low words, from 16-bit pieces so every partial product is exact.
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  R[LO] = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  const carry = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  R[HI] = (carry + Math.imul(al, bh) + Math.imul(ah, bl)) >>> 0;
}

/** R = a + b mod 2^64. */
export function add64(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  R[LO] = lo >>> 0;
  R[HI] = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

/** R = rotate-left(a, r) for 0 < r < 64. */
export function rotl64(h: number, l: number, r: number): void {
  if (r >= 32) {
    const t = h;
    h = l;
    l = t;
    r -= 32;
  }
  if (r === 0) {
    R[HI] = h >>> 0;
    R[LO] = l >>> 0;
    return;
  }
  R[HI] = ((h << r) | (l >>> (32 - r))) >>> 0;
  R[LO] = ((l << r) | (h >>> (32 - r))) >>> 0;
}

/** MurmurHash3's 32-bit finalizer: a bijection with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
