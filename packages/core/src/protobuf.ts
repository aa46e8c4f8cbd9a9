import type { IConversionOptions, Type } from 'protobufjs';
import { NoaError } from './errors.js';
import type { Serializer } from './serializer.js';

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
