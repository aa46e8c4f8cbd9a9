export interface BatchLimits {
  /** Most items in one batch. */
  maxItems?: number;
  /** Most bytes in one request body, `overheadBytes` included. */
  maxBytes?: number;
  /** Bytes of the body around the items (e.g. `{"objects":[]}`). */
  overheadBytes?: number;
  /** Bytes an item adds to the body, separator included. */
  itemBytes?: (item: string) => number;
}

/**
 * Packs items in order into as few batches as the limits allow (next-fit: with items far smaller
 * than a batch this is within one batch of the optimum, and keeps the caller's order).
 * Returns the items that cannot fit even alone in `tooLarge`.
 */
export function packBatches(
  items: readonly string[],
  { maxItems = Number.POSITIVE_INFINITY, maxBytes, overheadBytes = 0, itemBytes }: BatchLimits,
): { batches: string[][]; tooLarge: string[] } {
  const batches: string[][] = [];
  const tooLarge: string[] = [];
  let current: string[] = [];
  let bytes = overheadBytes;
  for (const item of items) {
    const size = maxBytes === undefined || !itemBytes ? 0 : itemBytes(item);
    if (maxBytes !== undefined && overheadBytes + size > maxBytes) {
      tooLarge.push(item);
      continue;
    }
    if (current.length >= maxItems || (maxBytes !== undefined && bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = overheadBytes;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return { batches, tooLarge };
}

/** Bytes a string adds to a JSON array: its quoted, escaped form plus a comma. */
export const jsonItemBytes = (item: string): number => Buffer.byteLength(JSON.stringify(item)) + 1;
