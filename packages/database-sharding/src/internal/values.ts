/**
 * Value arithmetic and ordering for merging rows from several shards. Databases return
 * bigint/numeric/decimal values as strings to keep them exact; sums of such strings are computed
 * exactly with BigInt and returned as strings, so a merged SUM equals the single-database SUM.
 */

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?$/;

interface Decimal {
  units: bigint;
  scale: number;
}

function parseDecimal(text: string): Decimal | undefined {
  const match = DECIMAL.exec(text.trim());
  if (!match) return undefined;
  const fraction = match[3] ?? '';
  const units = BigInt(match[2]! + fraction);
  return { units: match[1] === '-' ? -units : units, scale: fraction.length };
}

function formatDecimal({ units, scale }: Decimal): string {
  const negative = units < 0n;
  let digits = (negative ? -units : units).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

function toDecimal(value: unknown): Decimal | undefined {
  if (typeof value === 'bigint') return { units: value, scale: 0 };
  if (typeof value === 'number' && Number.isInteger(value) && Number.isSafeInteger(value))
    return { units: BigInt(value), scale: 0 };
  if (typeof value === 'string') return parseDecimal(value);
  return undefined;
}

/**
 * `a + b` for SUM and COUNT merging; null counts as absent (SQL semantics). Numbers add as numbers;
 * if either side is a string or bigint the sum is exact and keeps that representation.
 */
export function addValues(a: unknown, b: unknown): unknown {
  if (a === null || a === undefined) return b ?? null;
  if (b === null || b === undefined) return a;
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  const x = toDecimal(a);
  const y = toDecimal(b);
  if (!x || !y) return Number(a) + Number(b);
  const scale = Math.max(x.scale, y.scale);
  const units = x.units * 10n ** BigInt(scale - x.scale) + y.units * 10n ** BigInt(scale - y.scale);
  if (typeof a === 'bigint' && typeof b === 'bigint') return units;
  return formatDecimal({ units, scale });
}

/** A number for AVG = SUM / COUNT. */
export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

function compareDecimals(a: Decimal, b: Decimal): number {
  const scale = Math.max(a.scale, b.scale);
  const x = a.units * 10n ** BigInt(scale - a.scale);
  const y = b.units * 10n ** BigInt(scale - b.scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Orders two non-null values the way a database with binary collation does: numbers and numeric
 * strings (when `numeric`) by value, dates by time, buffers bytewise, other strings by code unit.
 */
export function compareValues(a: unknown, b: unknown, numeric: boolean): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b);
  if (
    numeric ||
    typeof a === 'bigint' ||
    typeof b === 'bigint' ||
    typeof a === 'number' ||
    typeof b === 'number'
  ) {
    const x = toDecimal(a);
    const y = toDecimal(b);
    if (x && y) return compareDecimals(x, y);
    const n = Number(a);
    const m = Number(b);
    if (!Number.isNaN(n) && !Number.isNaN(m)) return n < m ? -1 : n > m ? 1 : 0;
  }
  const s = String(a);
  const t = String(b);
  return s < t ? -1 : s > t ? 1 : 0;
}

/** A Map key for a GROUP BY value: equal values of the same kind share a key. */
export function groupKeyPart(value: unknown, numeric: boolean): string {
  if (value === null || value === undefined) return 'z';
  if (value instanceof Date) return `d${value.getTime()}`;
  if (value instanceof Uint8Array) return `x${Buffer.from(value).toString('hex')}`;
  if (typeof value === 'number' || typeof value === 'bigint' || numeric) {
    const decimal = toDecimal(value);
    if (decimal) {
      // Normalise the scale so 1.50 and 1.5 group together, as the database would.
      let { units, scale } = decimal;
      while (scale > 0 && units % 10n === 0n) {
        units /= 10n;
        scale--;
      }
      return `n${formatDecimal({ units, scale })}`;
    }
    return `n${String(value)}`;
  }
  return `s${String(value)}`;
}
