import { matchingParen, type Token, tokenize } from './internal/tokens.js';
import { assertSql } from './internal/validate.js';

export type RewriteRule =
  | 'not-in-to-not-exists'
  | 'or-to-in'
  | 'offset-to-keyset'
  | 'leading-wildcard-like'
  | 'select-star';

export interface Rewrite {
  rule: RewriteRule;
  /** The statement before this rule (rules apply in order, each to the previous one's output). */
  before: string;
  /** The rewritten statement; `null` for rules that only warn. */
  after: string | null;
  reason: string;
}

export interface RewriteOptions {
  dialect?: 'postgres' | 'mysql';
}

/** Clause keywords that end a WHERE condition at its own nesting level. */
const CLAUSE_END = new Set([
  'ORDER',
  'GROUP',
  'LIMIT',
  'HAVING',
  'UNION',
  'INTERSECT',
  'EXCEPT',
  'OFFSET',
  'FOR',
  'WINDOW',
  'RETURNING',
  'FETCH',
]);

const text = (sql: string, tokens: Token[], from: number, to: number) =>
  from > to ? '' : sql.slice(tokens[from]!.start, tokens[to]!.end);
const isName = (t: Token | undefined) => t?.kind === 'word' || t?.kind === 'ident';
const isValue = (t: Token | undefined) => t?.kind === 'string' || t?.kind === 'number' || t?.kind === 'param';

/** A column reference `c` or `q.c` ending at `end`: its first token index, or -1. */
function columnStart(tokens: Token[], end: number): number {
  if (!isName(tokens[end])) return -1;
  if (tokens[end - 1]?.text === '.' && isName(tokens[end - 2])) return end - 2;
  return end;
}

/** Index of the token at the same depth that matches `predicate`, scanning from `from` in `step`. */
function scanSameDepth(tokens: Token[], from: number, step: 1 | -1, stop: (t: Token) => boolean): number {
  let depth = 0;
  for (let i = from; i >= 0 && i < tokens.length; i += step) {
    const t = tokens[i]!;
    if (t.text === (step === 1 ? '(' : ')')) depth++;
    else if (t.text === (step === 1 ? ')' : '(')) {
      if (depth === 0) return i;
      depth--;
    } else if (depth === 0 && stop(t)) return i;
  }
  return step === 1 ? tokens.length : -1;
}

/**
 * `x NOT IN (SELECT c FROM t WHERE p)` in a WHERE clause becomes anti-joins that the planner can
 * run with an index. NOT IN's NULL rules are kept exactly: the row is dropped if the subquery
 * yields a NULL, or if x is NULL and the subquery is not empty.
 */
function notInToNotExists(sql: string): string | null {
  const tokens = tokenize(sql);
  for (let i = 1; i + 3 < tokens.length; i++) {
    if (
      tokens[i]!.upper !== 'NOT' ||
      tokens[i + 1]!.upper !== 'IN' ||
      tokens[i + 2]!.text !== '(' ||
      tokens[i + 3]!.upper !== 'SELECT'
    )
      continue;
    const close = matchingParen(tokens, i + 2);
    const xStart = columnStart(tokens, i - 1);
    if (close === -1 || xStart === -1) continue;
    // Only as a term of the WHERE condition's own AND/OR level (NULL and FALSE then filter alike):
    // reaching WHERE at the same depth proves no parenthesis, and so no NOT, encloses it.
    const before = tokens[xStart - 1]?.upper;
    if (before !== 'WHERE' && before !== 'AND' && before !== 'OR') continue;
    const where = scanSameDepth(tokens, xStart - 1, -1, (t) => t.upper === 'WHERE');
    if (where < 0 || tokens[where]!.upper !== 'WHERE') continue;
    let depth = 0;
    const terms = tokens.slice(where + 1, xStart).filter((t) => {
      if (t.text === '(') depth++;
      else if (t.text === ')') depth--;
      return depth === 0;
    });
    if (terms.some((t) => t.upper === 'CASE' || t.upper === 'BETWEEN')) continue;
    const after = tokens[close + 1];
    if (
      after &&
      !(
        after.upper === 'AND' ||
        after.upper === 'OR' ||
        after.text === ')' ||
        after.text === ';' ||
        CLAUSE_END.has(after.upper)
      )
    )
      continue;

    // The subquery: SELECT [DISTINCT] col FROM from [WHERE p], nothing else.
    let s = i + 4;
    if (tokens[s]?.upper === 'DISTINCT') s++;
    const colEnd = tokens[s + 1]?.text === '.' ? s + 2 : s;
    if (columnStart(tokens, colEnd) !== s || tokens[colEnd + 1]?.upper !== 'FROM') continue;
    const fromStart = colEnd + 2;
    const subWhere = scanSameDepth(
      tokens,
      fromStart,
      1,
      (t) => t.upper === 'WHERE' || CLAUSE_END.has(t.upper),
    );
    if (subWhere < close && tokens[subWhere]!.upper !== 'WHERE') continue;
    const hasWhere = subWhere < close;
    const fromEnd = hasWhere ? subWhere - 1 : close - 1;
    if (hasWhere && scanSameDepth(tokens, subWhere + 1, 1, (t) => CLAUSE_END.has(t.upper)) < close) continue;
    const subNames = new Set(
      tokens
        .slice(fromStart, fromEnd + 1)
        .filter(isName)
        .map((t) => t.text.toLowerCase()),
    );

    // x must mean the same thing inside the subquery: qualify it with the outer table.
    let x = text(sql, tokens, xStart, i - 1);
    if (xStart === i - 1) {
      const outerFrom = scanSameDepth(tokens, where - 1, -1, (t) => t.upper === 'FROM');
      if (outerFrom < 0 || tokens[outerFrom]!.upper !== 'FROM') continue;
      const refs = tokens.slice(outerFrom + 1, where);
      const simple =
        refs.length >= 1 &&
        refs.length <= 3 &&
        refs.every((t) => isName(t)) &&
        !refs.some((t) => t.upper === 'JOIN');
      if (!simple) continue;
      const qualifier = refs.at(-1)!.text;
      x = `${qualifier}.${x}`;
    }
    const qualifier = x.slice(0, x.lastIndexOf('.')).toLowerCase();
    if (subNames.has(qualifier)) continue;

    const col = text(sql, tokens, s, colEnd);
    const from = text(sql, tokens, fromStart, fromEnd);
    const p = hasWhere ? `(${text(sql, tokens, subWhere + 1, close - 1)}) AND ` : '';
    const pOnly = hasWhere ? ` WHERE ${text(sql, tokens, subWhere + 1, close - 1)}` : '';
    const replacement =
      `(NOT EXISTS (SELECT 1 FROM ${from} WHERE ${p}${col} = ${x})` +
      ` AND (${x} IS NOT NULL OR NOT EXISTS (SELECT 1 FROM ${from}${pOnly}))` +
      ` AND NOT EXISTS (SELECT 1 FROM ${from} WHERE ${p}${col} IS NULL))`;
    return sql.slice(0, tokens[xStart]!.start) + replacement + sql.slice(tokens[close]!.end);
  }
  return null;
}

/** `c = 1 OR c = 2 OR c = 3` (the whole condition, or a whole parenthesis) becomes `c IN (1, 2, 3)`. */
function orToIn(sql: string): string | null {
  const tokens = tokenize(sql);
  for (let i = 0; i < tokens.length; i++) {
    const open = tokens[i]!;
    if (open.text !== '(' && open.upper !== 'WHERE') continue;
    const end =
      open.text === '('
        ? matchingParen(tokens, i)
        : scanSameDepth(tokens, i + 1, 1, (t) => CLAUSE_END.has(t.upper) || t.text === ';');
    if (end === -1) continue;
    // end is the index just past the condition (the closing paren, a clause keyword, or the end).
    const parts: { col: string; value: string }[] = [];
    let j = i + 1;
    let ok = true;
    while (j < end) {
      const colEnd = tokens[j + 1]?.text === '.' ? j + 2 : j;
      if (columnStart(tokens, colEnd) !== j || tokens[colEnd + 1]?.text !== '=') {
        ok = false;
        break;
      }
      let v = colEnd + 2;
      const negative = tokens[v]?.text === '-' && tokens[v + 1]?.kind === 'number';
      if (negative) v++;
      if (!isValue(tokens[v])) {
        ok = false;
        break;
      }
      parts.push({
        col: text(sql, tokens, j, colEnd).toLowerCase(),
        value: text(sql, tokens, colEnd + 2, v),
      });
      j = v + 1;
      if (j === end) break;
      if (tokens[j]?.upper !== 'OR') {
        ok = false;
        break;
      }
      j++;
    }
    if (!ok || parts.length < 2 || !parts.every((p) => p.col === parts[0]!.col)) continue;
    const firstCol = text(sql, tokens, i + 1, tokens[i + 2]?.text === '.' ? i + 3 : i + 1);
    const replacement = `${firstCol} IN (${parts.map((p) => p.value).join(', ')})`;
    return sql.slice(0, tokens[i + 1]!.start) + replacement + sql.slice(tokens[end - 1]!.end);
  }
  return null;
}

/** `ORDER BY k LIMIT n OFFSET m` reads and discards m rows; keyset pagination seeks past the last key. */
function offsetToKeyset(sql: string): string | null {
  const tokens = tokenize(sql);
  let depth = 0;
  let order = -1;
  let offset = -1;
  let where = -1;
  let group = -1;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0) {
      if (t.upper === 'ORDER' && tokens[i + 1]?.upper === 'BY') order = i;
      else if (t.upper === 'OFFSET') offset = i;
      else if (t.upper === 'WHERE') where = i;
      else if (t.upper === 'GROUP' || t.upper === 'UNION') group = i;
    }
  }
  if (order === -1 || offset === -1 || group !== -1 || offset < order) return null;
  // One sort key: `ORDER BY c [ASC|DESC]` followed by LIMIT/OFFSET.
  const keyEnd = tokens[order + 3]?.text === '.' ? order + 4 : order + 2;
  if (columnStart(tokens, keyEnd) !== order + 2) return null;
  let next = keyEnd + 1;
  const descending = tokens[next]?.upper === 'DESC';
  if (tokens[next]?.upper === 'ASC' || descending) next++;
  if (tokens[next]?.upper !== 'LIMIT' && tokens[next]?.upper !== 'OFFSET') return null;
  const key = text(sql, tokens, order + 2, keyEnd);
  const seek = `${key} ${descending ? '<' : '>'} :last_seen`;
  const offsetEnd =
    tokens[offset + 2]?.upper === 'ROWS' || tokens[offset + 2]?.upper === 'ROW' ? offset + 2 : offset + 1;
  const withoutOffset = sql.slice(0, tokens[offset]!.start).trimEnd() + sql.slice(tokens[offsetEnd]!.end);
  const head = sql.slice(0, tokens[order]!.start).trimEnd();
  const tail = withoutOffset.slice(tokens[order]!.start);
  if (where === -1) return `${head} WHERE ${seek} ${tail}`;
  const condition = sql.slice(tokens[where + 1]!.start, tokens[order]!.start).trimEnd();
  return `${sql.slice(0, tokens[where]!.start)}WHERE (${condition}) AND ${seek} ${tail}`;
}

function leadingWildcard(tokens: Token[]): string | null {
  for (let i = 0; i + 1 < tokens.length; i++) {
    const t = tokens[i]!;
    if (
      (t.upper === 'LIKE' || t.upper === 'ILIKE') &&
      tokens[i + 1]!.kind === 'string' &&
      /^[A-Za-z]?'[%_]/.test(tokens[i + 1]!.text)
    ) {
      return tokens[i + 1]!.text;
    }
  }
  return null;
}

function selectsStar(tokens: Token[]): boolean {
  return tokens.some(
    (t, i) =>
      t.text === '*' &&
      (tokens[i - 1]?.upper === 'SELECT' ||
        (tokens[i - 1]?.text === '.' && tokens[i - 3]?.upper === 'SELECT') ||
        tokens[i - 1]?.text === ','),
  );
}

/**
 * Rewrites that keep results identical (`not-in-to-not-exists`, `or-to-in`), a keyset rewrite of
 * OFFSET pagination (same page, given the previous page's last key as `:last_seen`), and warnings
 * (`leading-wildcard-like`, `select-star`) whose `after` is null.
 */
export function rewriteQuery(sql: string, _options: RewriteOptions = {}): Rewrite[] {
  assertSql(sql, 'rewriteQuery(sql)');
  const out: Rewrite[] = [];
  let current = sql;
  for (let guard = 0; guard < 20; guard++) {
    const after = notInToNotExists(current);
    if (!after) break;
    out.push({
      rule: 'not-in-to-not-exists',
      before: current,
      after,
      reason:
        'NOT IN (subquery) cannot become an anti-join and re-scans the subquery; NOT EXISTS can use an index. NULL handling is kept.',
    });
    current = after;
  }
  for (let guard = 0; guard < 20; guard++) {
    const after = orToIn(current);
    if (!after) break;
    out.push({
      rule: 'or-to-in',
      before: current,
      after,
      reason: 'One IN list is planned as a single index condition; a chain of ORs on one column may not be.',
    });
    current = after;
  }
  const keyset = offsetToKeyset(current);
  if (keyset) {
    out.push({
      rule: 'offset-to-keyset',
      before: current,
      after: keyset,
      reason:
        "OFFSET reads and throws away every skipped row; seek past the previous page's last key (:last_seen) instead. Needs a unique sort key.",
    });
  }
  const tokens = tokenize(current);
  const pattern = leadingWildcard(tokens);
  if (pattern) {
    out.push({
      rule: 'leading-wildcard-like',
      before: current,
      after: null,
      reason: `LIKE ${pattern} starts with a wildcard, so no btree index can serve it: use a trigram index (pg_trgm) or full-text search.`,
    });
  }
  if (selectsStar(tokens)) {
    out.push({
      rule: 'select-star',
      before: current,
      after: null,
      reason:
        'SELECT * reads and ships every column and defeats index-only scans: list the columns a hot path needs.',
    });
  }
  return out;
}
