import type { IConversionOptions, Type } from 'protobufjs';
import { NoaError } from './errors.js';
import type { Serializer } from './serializer.js';

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

/**
 * protobufjs turns a non-numeric string in a 64-bit field into 0 without complaint (Long.fromString
 * does), so such strings are refused here before conversion, in nested and repeated fields too.
 */
function badLongString(type: Type, value: unknown, path: string): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  for (const field of type.fieldsArray) {
    const raw = (value as Record<string, unknown>)[field.name];
    if (raw === undefined || raw === null) continue;
    const items = field.repeated && Array.isArray(raw) ? raw : [raw];
    for (const item of items) {
      if (LONG_TYPES.has(field.type) && typeof item === 'string' && !/^-?\d+$/.test(item.trim())) {
        return `${path}${field.name}: integer string expected, got "${item}"`;
      }
      const nested = field.resolve().resolvedType;
      if (nested && 'fieldsArray' in nested) {
        const problem = badLongString(nested as Type, item, `${path}${field.name}.`);
        if (problem) return problem;
      }
    }
  }
  return undefined;
}

/**
 * Protocol Buffers through a protobufjs message type. Values are checked against the schema before
 * encoding; decoding returns plain objects (longs as strings unless `conversion` says otherwise).
 */
export function protobufSerializer(
  type: Type,
  conversion: IConversionOptions = { longs: String, enums: String, defaults: false },
): Serializer {
  if (!type || typeof type.encode !== 'function' || typeof type.decode !== 'function') {
    throw new NoaError(
      'NOA_INVALID_OPTION',
      'protobufSerializer needs a protobufjs Type, e.g. root.lookupType("pkg.Message")',
    );
  }
  return {
    name: `protobuf:${type.fullName.replace(/^\./, '')}`,
    encode(value) {
      const longProblem = badLongString(type, value, '');
      if (longProblem)
        throw new NoaError(
          'NOA_SERIALIZE_FAILED',
          `protobufSerializer: value does not match ${type.fullName}: ${longProblem}`,
        );
      let message: ReturnType<Type['fromObject']>;
      try {
        // fromObject accepts the JSON forms (longs as strings, enums by name); verify checks the result.
        message = type.fromObject(value as Record<string, unknown>);
      } catch (cause) {
        throw new NoaError(
          'NOA_SERIALIZE_FAILED',
          `protobufSerializer: value does not match ${type.fullName}: ${(cause as Error).message}`,
          { cause },
        );
      }
      const problem = type.verify(message);
      if (problem)
        throw new NoaError(
          'NOA_SERIALIZE_FAILED',
          `protobufSerializer: value does not match ${type.fullName}: ${problem}`,
        );
      return type.encode(message).finish();
    },
    decode(bytes) {
      try {
        return type.toObject(type.decode(bytes), conversion);
      } catch (cause) {
        throw new NoaError(
          'NOA_DESERIALIZE_FAILED',
          `protobufSerializer: bytes are not a valid ${type.fullName}`,
          { cause },
        );
      }
    },
  };
}
