/** Replaces each parameter by its type, so logs never carry user data (`<string:12>`, `<number>`). */
export function redactParams(params: readonly unknown[] | undefined): string[] {
  if (!params) return [];
  return params.map((value) => {
    if (value === null || value === undefined) return `<${value}>`;
    if (typeof value === 'string') return `<string:${value.length}>`;
    if (value instanceof Date) return '<date>';
    if (value instanceof Uint8Array) return `<bytes:${value.byteLength}>`;
    if (Array.isArray(value)) return `<array:${value.length}>`;
    return `<${typeof value}>`;
  });
}
