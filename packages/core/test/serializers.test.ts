import fc from 'fast-check';
import Long from 'long';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { compressedSerializer, isNoaError, jsonSerializer } from '../src/index.js';
import { msgpackSerializer } from '../src/msgpack.js';
import { protobufSerializer } from '../src/protobuf.js';

// JSON cannot tell -0 from 0; everything else in a JSON value must survive.
const jsonValue = fc.jsonValue({ noUnicodeString: false }).map((v) => JSON.parse(JSON.stringify(v)));

describe('jsonSerializer', () => {
  it('round-trips every JSON value', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        expect(jsonSerializer.decode(jsonSerializer.encode(value))).toEqual(value);
      }),
    );
  });

  it('refuses values JSON cannot represent with a NoaError', () => {
    for (const bad of [undefined, () => 1, 10n]) {
      expect(() => jsonSerializer.encode(bad)).toThrowError(
        expect.objectContaining({ code: 'NOA_SERIALIZE_FAILED' }),
      );
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => jsonSerializer.encode(cyclic)).toThrowError(/cannot encode/);
  });

  it('refuses bytes that are not UTF-8 JSON', () => {
    expect(() => jsonSerializer.decode(new Uint8Array([0xff, 0xfe]))).toThrowError(
      expect.objectContaining({ code: 'NOA_DESERIALIZE_FAILED' }),
    );
    expect(() => jsonSerializer.decode(new TextEncoder().encode('{"a":'))).toThrowError(/not UTF-8 JSON/);
  });
});

describe('msgpackSerializer', () => {
  const msgpack = msgpackSerializer();

  it('round-trips JSON values, dates, sets, binary and bigints', () => {
    const rich = fc.oneof(
      jsonValue,
      fc.date({ noInvalidDate: true }),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.uint8Array(),
      fc.array(fc.string()).map((items) => new Set(items)),
    );
    fc.assert(
      fc.property(fc.array(rich), (value) => {
        expect(msgpack.decode(msgpack.encode(value))).toEqual(value);
      }),
    );
  });

  it('is smaller than JSON for typical objects', () => {
    const value = { id: 123456, name: 'Ada Lovelace', active: true, scores: [1.5, 2.25, 99] };
    expect(msgpack.encode(value).byteLength).toBeLessThan(jsonSerializer.encode(value).byteLength);
  });

  it('refuses bytes that are not MessagePack', () => {
    expect(() => msgpack.decode(new Uint8Array([0x93, 0x01]))).toThrowError(
      expect.objectContaining({ code: 'NOA_DESERIALIZE_FAILED' }),
    );
  });
});

describe('protobufSerializer', () => {
  // protobufjs finds 'long' with a dynamic require that vitest's module runner hides; wire it as its docs say.
  protobuf.util.Long = Long as never;
  protobuf.configure();
  const root = protobuf.parse(`
    syntax = "proto3";
    package demo;
    message User { int64 id = 1; string name = 2; repeated string tags = 3; bool active = 4; double score = 5; }
  `).root;
  const User = root.lookupType('demo.User');
  const serializer = protobufSerializer(User);

  it('round-trips messages of its type', () => {
    const user = fc.record({
      id: fc.bigInt({ min: 1n, max: 2n ** 62n }).map(String),
      name: fc.string({ minLength: 1 }),
      tags: fc.array(fc.string({ minLength: 1 }), { minLength: 1 }),
      active: fc.constant(true),
      score: fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => n !== 0),
    });
    fc.assert(
      fc.property(user, (value) => {
        expect(serializer.decode(serializer.encode(value))).toEqual(value);
      }),
    );
    expect(serializer.name).toBe('protobuf:demo.User');
  });

  it('rejects values that do not match the schema', () => {
    expect(() => serializer.encode({ tags: 'not-a-list' })).toThrowError(
      expect.objectContaining({ code: 'NOA_SERIALIZE_FAILED' }),
    );
  });

  it('rejects non-numeric strings in 64-bit fields instead of encoding 0', () => {
    expect(() => serializer.encode({ id: 'not a number', name: 'x' })).toThrowError(
      /id: integer string expected/,
    );
    expect(serializer.decode(serializer.encode({ id: '-42', name: 'x' }))).toMatchObject({ id: '-42' });
  });

  it('rejects a missing type with a clear error', () => {
    expect(() => protobufSerializer(undefined as never)).toThrowError(/needs a protobufjs Type/);
  });
});

describe('compressedSerializer', () => {
  for (const algorithm of ['gzip', 'brotli'] as const) {
    it(`${algorithm}: round-trips values above and below the threshold`, () => {
      const serializer = compressedSerializer(jsonSerializer, { algorithm, thresholdBytes: 64 });
      fc.assert(
        fc.property(jsonValue, (value) => {
          expect(serializer.decode(serializer.encode(value))).toEqual(value);
        }),
        { numRuns: 200 },
      );
    });

    it(`${algorithm}: compresses repetitive payloads above the threshold and leaves small ones raw`, () => {
      const serializer = compressedSerializer(jsonSerializer, { algorithm, thresholdBytes: 100 });
      const big = { text: 'abc'.repeat(1000) };
      const packed = serializer.encode(big);
      expect(packed[0]).not.toBe(0);
      expect(packed.byteLength).toBeLessThan(jsonSerializer.encode(big).byteLength / 10);
      const small = serializer.encode({ a: 1 });
      expect(small[0]).toBe(0);
      expect(serializer.decode(small)).toEqual({ a: 1 });
    });
  }

  it('reads data written with another threshold or algorithm header', () => {
    const gzip = compressedSerializer(jsonSerializer, { algorithm: 'gzip', thresholdBytes: 0 });
    const brotli = compressedSerializer(jsonSerializer, { algorithm: 'brotli', thresholdBytes: 0 });
    const value = { text: 'x'.repeat(500) };
    expect(brotli.decode(gzip.encode(value))).toEqual(value);
  });

  it('rejects corrupt payloads, unknown headers and bad options', () => {
    const serializer = compressedSerializer(jsonSerializer, { algorithm: 'gzip', thresholdBytes: 0 });
    const packed = serializer.encode({ text: 'y'.repeat(500) });
    const error = (() => {
      try {
        serializer.decode(packed.subarray(0, 10));
      } catch (e) {
        return e;
      }
    })();
    expect(isNoaError(error, 'NOA_DESERIALIZE_FAILED')).toBe(true);
    expect(() => serializer.decode(new Uint8Array([9, 1, 2]))).toThrowError(/unknown header byte 9/);
    expect(() => serializer.decode(new Uint8Array())).toThrowError(/empty payload/);
    expect(() => compressedSerializer(jsonSerializer, { algorithm: 'zip' as never })).toThrowError(
      /algorithm must be/,
    );
    expect(() =>
      compressedSerializer(jsonSerializer, { algorithm: 'gzip', thresholdBytes: -1 }),
    ).toThrowError(/thresholdBytes/);
  });
});
