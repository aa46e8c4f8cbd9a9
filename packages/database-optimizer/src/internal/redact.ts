import { tokenize } from './tokens.js';

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

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * An error message with the statement's values taken out: databases quote the offending value
 * (`invalid input syntax for type integer: "hunter2"`), which would carry a redacted parameter or
 * literal into logs. Each parameter and each literal of the statement becomes `?`.
 */
export function redactMessage(message: string, sql: string, params: readonly unknown[] | undefined): string {
  const values = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') {
      const text = String(value);
      if (text.length > 0) values.add(text);
    } else if (Array.isArray(value)) value.forEach(add);
  };
  params?.forEach(add);
  for (const t of tokenize(sql)) {
    if (t.kind === 'number') values.add(t.text);
    else if (t.kind === 'string') {
      const quote = t.text.indexOf("'");
      const body = t.text.slice(quote + 1, -1).replace(/''/g, "'");
      if (quote >= 0 && body.length > 0) values.add(body);
    }
  }
  if (values.size === 0) return message;
  // Longest first, so a value is not half-replaced by a shorter one it contains; whole words only.
  const pattern = [...values]
    .sort((a, b) => b.length - a.length)
    .map((v) => `(?<![\\w])${escapeRegExp(v)}(?![\\w])`)
    .join('|');
  return message.replace(new RegExp(pattern, 'g'), '?');
}
