import { NoaError } from '@noa/core';

/** What one instance tells the others so they drop their local copies. */
export type BusMessage =
  | { type: 'set' | 'delete'; keys: string[] }
  | { type: 'clear' }
  | { type: 'tags'; tags: string[]; versions: number[] };

export interface BusHandler {
  onMessage(message: BusMessage): void;
  /** Messages may have been missed (the connection dropped): local copies can no longer be trusted. */
  onResync(): void;
}

/**
 * Carries invalidations between instances of one namespace. `publish` never throws: a bus that
 * cannot deliver keeps the message and sends it when it can, or asks every instance to resync.
 */
export interface CacheBus {
  /** The longest a publish may take; a cache call waits at most the largest of this and its tiers' timeouts. */
  readonly timeoutMs?: number;
  start(namespace: string, instanceId: string, handler: BusHandler): Promise<void>;
  publish(message: BusMessage): Promise<void>;
  close(): Promise<void>;
}

// Binary frame: [type u8][instance id: u8 length + utf8][body]. Keys: [u32 count]([u16 length][utf8])*;
// tags add a float64 version after each tag. Small and cheap to parse on every instance.
const TYPES = ['set', 'delete', 'clear', 'tags'] as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeBusMessage(instanceId: string, message: BusMessage): Buffer {
  const id = encoder.encode(instanceId);
  const strings = message.type === 'clear' ? [] : message.type === 'tags' ? message.tags : message.keys;
  const encoded = strings.map((s) => encoder.encode(s));
  const perItemExtra = message.type === 'tags' ? 8 : 0;
  let size = 2 + id.length + 4;
  for (const bytes of encoded) size += 2 + bytes.length + perItemExtra;
  const out = Buffer.allocUnsafe(size);
  let offset = out.writeUInt8(TYPES.indexOf(message.type), 0);
  offset = out.writeUInt8(id.length, offset);
  out.set(id, offset);
  offset = out.writeUInt32BE(encoded.length, offset + id.length);
  encoded.forEach((bytes, i) => {
    offset = out.writeUInt16BE(bytes.length, offset);
    out.set(bytes, offset);
    offset += bytes.length;
    if (message.type === 'tags') offset = out.writeDoubleBE(message.versions[i]!, offset);
  });
  return out;
}

export function decodeBusMessage(frame: Buffer): { instanceId: string; message: BusMessage } {
  try {
    const type = TYPES[frame.readUInt8(0)];
    if (type === undefined) throw new Error(`unknown message type ${frame[0]}`);
    const idLength = frame.readUInt8(1);
    const instanceId = decoder.decode(frame.subarray(2, 2 + idLength));
    let offset = 2 + idLength;
    const count = frame.readUInt32BE(offset);
    offset += 4;
    const strings: string[] = [];
    const versions: number[] = [];
    for (let i = 0; i < count; i++) {
      const length = frame.readUInt16BE(offset);
      offset += 2;
      strings.push(decoder.decode(frame.subarray(offset, offset + length)));
      offset += length;
      if (type === 'tags') {
        versions.push(frame.readDoubleBE(offset));
        offset += 8;
      }
    }
    if (type === 'clear') return { instanceId, message: { type } };
    if (type === 'tags') return { instanceId, message: { type, tags: strings, versions } };
    return { instanceId, message: { type, keys: strings } };
  } catch (cause) {
    throw new NoaError(
      'NOA_CACHE_BUS_MESSAGE',
      'cache bus: malformed message; is another program publishing on this channel?',
      { cause },
    );
  }
}
