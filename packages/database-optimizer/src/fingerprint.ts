import { createHash } from 'node:crypto';
import { invariant } from '@noa/core';
import { mysqlParser, pgParser } from './internal/parsers.js';
import { tokenize } from './internal/tokens.js';

export type SqlDialect = 'postgres' | 'mysql';

export interface FingerprintOptions {
  /** Which parser to use (default `postgres`). */
  dialect?: SqlDialect;
}

export interface QueryShape {
  /** Stable id of the query's shape: constants, IN-list lengths, whitespace and case removed. */
  fingerprint: string;
  /** The statement with its constants replaced by placeholders (`$1` on PostgreSQL, `?` on MySQL). */
  normalized: string;
  /** Which method produced it: the real parser, or the token fallback for text it cannot parse. */
  method: 'libpg_query' | 'node-sql-parser' | 'tokens';
}

const CACHE_SIZE = 5_000;
const cache = new Map<string, QueryShape>();

/**
 * The shape of a statement, memoised by its text (applications issue the same few hundred texts
 * over and over, so the parser runs once per text). PostgreSQL uses libpg_query, the server's own
 * parser; MySQL uses node-sql-parser, and both fall back to tokens for text they cannot parse.
 */
export function queryShape(sql: string, options: FingerprintOptions = {}): QueryShape {
  invariant(typeof sql === 'string', 'fingerprint(sql): sql must be a string', 'NOA_DBOPT_INVALID_SQL');
  const dialect = options.dialect ?? 'postgres';
  const key = dialect === 'postgres' ? sql : `m:${sql}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const shape = dialect === 'postgres' ? postgresShape(sql) : mysqlShape(sql);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, shape);
  return shape;
}

/** Stable id of a query's shape (constants removed): equal for `id = 1` and `id = 2`. */
export function fingerprint(sql: string, options: FingerprintOptions = {}): string {
  return queryShape(sql, options).fingerprint;
}

function postgresShape(sql: string): QueryShape {
  const parser = pgParser();
  try {
    return {
      fingerprint: parser.fingerprintSync(sql),
      normalized: parser.normalizeSync(sql),
      method: 'libpg_query',
    };
  } catch {
    return tokenShape(sql, 'postgres');
  }
}

const LITERALS = new Set([
  'number',
  'bigint',
  'single_quote_string',
  'double_quote_string',
  'natural_string',
  'string',
  'hex_string',
  'full_hex_string',
  'bit_string',
  'bool',
  'date',
  'time',
  'timestamp',
  'datetime',
  'origin',
]);

/** Replaces literals with `?` in place and collapses IN lists to one element. */
function stripLiterals(node: unknown, parentOperator?: string): unknown {
  if (Array.isArray(node)) return node.map((child) => stripLiterals(child, parentOperator));
  if (!node || typeof node !== 'object') return node;
  const record = node as Record<string, unknown>;
  if (typeof record.type === 'string' && LITERALS.has(record.type) && 'value' in record) {
    return { type: 'origin', value: '?' };
  }
  if (record.type === 'expr_list' && (parentOperator === 'IN' || parentOperator === 'NOT IN')) {
    const values = record.value as unknown[];
    if (values.every((v) => LITERALS.has((v as { type?: string })?.type ?? ''))) {
      return { ...record, value: [{ type: 'origin', value: '?' }] };
    }
  }
  const out: Record<string, unknown> = {};
  const operator = typeof record.operator === 'string' ? record.operator.toUpperCase() : undefined;
  for (const [k, v] of Object.entries(record)) out[k] = k === 'loc' ? undefined : stripLiterals(v, operator);
  return out;
}

function mysqlShape(sql: string): QueryShape {
  try {
    const parser = mysqlParser();
    const ast = parser.astify(sql);
    const normalized = parser.sqlify(stripLiterals(ast));
    return { fingerprint: hash(`m:${normalized}`), normalized, method: 'node-sql-parser' };
  } catch {
    return tokenShape(sql, 'mysql');
  }
}

/** The fallback: literals become placeholders, lists of placeholders collapse, case is folded. */
export function tokenShape(sql: string, dialect: SqlDialect): QueryShape {
  const parts: string[] = [];
  let display = '';
  let copied = 0;
  let param = 0;
  for (const t of tokenize(sql)) {
    if (t.kind === 'string' || t.kind === 'number' || t.kind === 'param') {
      // The normalised text keeps the statement's own spacing, with placeholders for the values.
      display += `${sql.slice(copied, t.start)}${dialect === 'postgres' ? `$${++param}` : '?'}`;
      copied = t.end;
      // `(?, ?, ?)` and `(?)` are the same shape.
      if (parts.at(-1) === ',' && parts.at(-2) === '?') parts.pop();
      else parts.push('?');
      continue;
    }
    if (t.text !== ';')
      parts.push(t.kind === 'word' ? t.upper : t.kind === 'ident' ? t.text.slice(1, -1) : t.text);
  }
  display += sql.slice(copied);
  return { fingerprint: hash(`t:${parts.join(' ')}`), normalized: display.trim(), method: 'tokens' };
}

const hash = (text: string) => createHash('sha1').update(text).digest('hex').slice(0, 16);
