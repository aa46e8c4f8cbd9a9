/**
 * A small SQL tokenizer shared by the token fingerprint (MySQL fallback), write detection and the
 * rewrite rules. It understands strings, quoted identifiers, comments, numbers, placeholders and
 * punctuation well enough to never split or merge a literal; it is not a parser.
 */
export type TokenKind = 'word' | 'ident' | 'string' | 'number' | 'param' | 'punct' | 'op';

export interface Token {
  kind: TokenKind;
  /** The source text of the token. */
  text: string;
  /** Upper-cased text for words (keyword comparisons), the raw text otherwise. */
  upper: string;
  start: number;
  end: number;
}

const isWordStart = (c: string) => /[A-Za-z_\u0080-\uffff]/.test(c);
const isWordPart = (c: string) => /[A-Za-z0-9_$\u0080-\uffff]/.test(c);
const isDigit = (c: string) => c >= '0' && c <= '9';

/** Tokenizes `sql`; comments and whitespace are dropped. Unterminated quotes run to the end. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number) => {
    const text = sql.slice(start, end);
    tokens.push({ kind, text, upper: kind === 'word' ? text.toUpperCase() : text, start, end });
  };
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '\f') {
      i++;
    } else if ((c === '-' && next === '-') || c === '#') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close === -1 ? n : close + 2;
    } else if (c === "'" || ((c === 'E' || c === 'e' || c === 'N' || c === 'n') && next === "'")) {
      const start = i;
      i = skipQuoted(sql, c === "'" ? i : i + 1, "'");
      push('string', start, i);
    } else if (c === '"' || c === '`') {
      const start = i;
      i = skipQuoted(sql, i, c);
      push('ident', start, i);
    } else if (c === '$' && next !== undefined && isDigit(next)) {
      const start = i++;
      while (i < n && isDigit(sql[i]!)) i++;
      push('param', start, i);
    } else if (c === '$') {
      // Dollar-quoted string ($$...$$ or $tag$...$tag$) in PostgreSQL.
      const tagEnd = sql.indexOf('$', i + 1);
      const tag = tagEnd === -1 ? '' : sql.slice(i, tagEnd + 1);
      if (tag && /^\$[A-Za-z_]*\$$/.test(tag)) {
        const close = sql.indexOf(tag, tagEnd + 1);
        const start = i;
        i = close === -1 ? n : close + tag.length;
        push('string', start, i);
      } else {
        push('op', i, ++i);
      }
    } else if (c === '?' || (c === ':' && next !== undefined && isWordStart(next) && sql[i - 1] !== ':')) {
      const start = i++;
      if (c === ':') while (i < n && isWordPart(sql[i]!)) i++;
      push('param', start, i);
    } else if (isDigit(c) || (c === '.' && next !== undefined && isDigit(next))) {
      const start = i;
      if (c === '0' && (next === 'x' || next === 'X')) {
        i += 2;
        while (i < n && /[0-9a-fA-F]/.test(sql[i]!)) i++;
      } else {
        while (i < n && (isDigit(sql[i]!) || sql[i] === '.')) i++;
        if (i < n && (sql[i] === 'e' || sql[i] === 'E') && /[-+0-9]/.test(sql[i + 1] ?? '')) {
          i += 2;
          while (i < n && isDigit(sql[i]!)) i++;
        }
      }
      push('number', start, i);
    } else if (isWordStart(c)) {
      const start = i;
      while (i < n && isWordPart(sql[i]!)) i++;
      push('word', start, i);
    } else if ('(),;.[]'.includes(c)) {
      push('punct', i, ++i);
    } else {
      const start = i;
      while (i < n && '<>=!|&+-*/%^~@:'.includes(sql[i]!) && !(sql[i] === '-' && sql[i + 1] === '-')) i++;
      if (i === start) i++;
      push('op', start, i);
    }
  }
  return tokens;
}

function skipQuoted(sql: string, openAt: number, quote: string): number {
  let i = openAt + 1;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '\\' && quote !== '"') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return sql.length;
}

/** Index of the `)` that closes the `(` at `open`, or -1. */
export function matchingParen(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'punct') continue;
    if (t.text === '(') depth++;
    else if (t.text === ')' && --depth === 0) return i;
  }
  return -1;
}

const READ_STARTS = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE', 'SHOW', 'DESCRIBE', 'DESC']);
const DML = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'REPLACE']);

/**
 * Whether a statement can change data: anything that does not start like a query, and queries with
 * a data-modifying CTE or `SELECT ... INTO`. It errs towards "writes" on purpose: it gates whether
 * EXPLAIN ANALYZE may execute the statement. Functions with side effects cannot be seen here, which
 * is why ANALYZE always runs inside a transaction that is rolled back.
 */
export function isWriteStatement(sql: string): boolean {
  const tokens = tokenize(sql);
  const first = tokens.findIndex((t) => !(t.kind === 'punct' && t.text === '('));
  if (first === -1) return false;
  if (!READ_STARTS.has(tokens[first]!.upper)) return true;
  for (let i = first + 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'word') continue;
    if (t.upper === 'INTO') return true;
    if (!DML.has(t.upper)) continue;
    const prev = tokens[i - 1]?.upper;
    const next = tokens[i + 1]?.text;
    if (prev === 'FOR' || prev === 'ON' || prev === 'KEY' || next === '(') continue; // FOR UPDATE, REPLACE(...)
    return true;
  }
  return false;
}
