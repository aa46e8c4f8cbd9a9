import { NoaError } from './errors.js';

/** Turns values into bytes and back, for tiers, queues and wires that carry bytes. */
export interface Serializer {
  readonly name: string;
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** JSON as UTF-8. Values JSON cannot represent (undefined, functions, BigInt, cycles) are refused. */
export const jsonSerializer: Serializer = Object.freeze({
  name: 'json',
  encode(value: unknown): Uint8Array {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (cause) {
      throw new NoaError(
        'NOA_SERIALIZE_FAILED',
        `jsonSerializer cannot encode this value: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    if (text === undefined) {
      throw new NoaError(
        'NOA_SERIALIZE_FAILED',
        `jsonSerializer cannot encode ${typeof value}; pass a JSON value`,
      );
    }
    return encoder.encode(text);
  },
  decode(bytes: Uint8Array): unknown {
    try {
      return JSON.parse(decoder.decode(bytes));
    } catch (cause) {
      throw new NoaError(
        'NOA_DESERIALIZE_FAILED',
        'jsonSerializer cannot decode these bytes: not UTF-8 JSON',
        { cause },
      );
    }
  },
});
