import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lsnReached, mariaGtidReached, offsetReached, parseLsn, parseMariaGtid } from '../src/index.js';

const lsnOf = (value: bigint) =>
  `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`;
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

describe('replication positions', () => {
  it('property: an LSN round-trips and compares like the byte offset it encodes', () => {
    fc.assert(
      fc.property(u64, u64, (a, b) => {
        expect(parseLsn(lsnOf(a))).toBe(a);
        expect(lsnReached(lsnOf(a), lsnOf(b))).toBe(a >= b);
      }),
    );
  });

  it('parses real LSNs and rejects garbage', () => {
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) | 0xb374d848n);
    expect(lsnReached('0/5028048', '0/5028048')).toBe(true);
    expect(lsnReached('0/5028047', '0/5028048')).toBe(false);
    expect(() => parseLsn('5028048')).toThrow(TypeError);
  });

  const gtid = fc.dictionary(
    fc.integer({ min: 0, max: 5 }).map(String),
    fc.record({ server: fc.integer({ min: 1, max: 9 }), seq: fc.bigInt({ min: 0n, max: 1n << 40n }) }),
  );
  const format = (g: Record<string, { server: number; seq: bigint }>) =>
    Object.entries(g)
      .map(([domain, { server, seq }]) => `${domain}-${server}-${seq}`)
      .join(',');

  it('property: a MariaDB GTID position is reached iff every target domain is at or past its sequence', () => {
    fc.assert(
      fc.property(gtid, gtid, (have, want) => {
        const expected = Object.entries(want).every(([domain, { seq }]) => (have[domain]?.seq ?? -1n) >= seq);
        expect(mariaGtidReached(format(have), format(want))).toBe(expected);
        expect(mariaGtidReached(format(have), format(have))).toBe(true);
      }),
    );
  });

  it('handles MariaDB edge cases: empty positions, server ids, several entries per domain', () => {
    expect(mariaGtidReached('', '')).toBe(true);
    expect(mariaGtidReached('0-1-5', '')).toBe(true);
    expect(mariaGtidReached('', '0-1-5')).toBe(false);
    expect(mariaGtidReached('0-2-10', '0-1-10')).toBe(true); // ordering is by sequence within a domain
    expect(mariaGtidReached('0-1-10,1-1-3', '0-1-9,1-1-4')).toBe(false);
    expect(parseMariaGtid('0-1-3, 0-2-7')).toEqual(new Map([[0, 7n]]));
    expect(() => parseMariaGtid('3E11FA47-71CA:1-5')).toThrow(TypeError);
  });

  it('compares integer offsets (Redis, MongoDB optimes) without losing precision', () => {
    expect(offsetReached('18446744073709551615', '18446744073709551614')).toBe(true);
    expect(offsetReached('9007199254740993', '9007199254740994')).toBe(false);
  });
});
