import type { SqlDialect } from '../fingerprint.js';
import { mysqlParser, pgParser } from './parsers.js';

/**
 * What index advice needs from a statement: the tables it reads and how it uses their columns
 * (equality, range, join, sort). Extracted from the real parse tree of each dialect; an
 * unqualified column has no table yet and is resolved against the tables' columns later.
 */
export type ColumnUseKind = 'eq' | 'range' | 'join' | 'sort';

export interface ColumnUse {
  table?: string;
  column: string;
  use: ColumnUseKind;
}

export interface StatementInfo {
  tables: string[];
  uses: ColumnUse[];
  /** Whether the statement only reads (SELECT / WITH ... SELECT). */
  readOnly: boolean;
}

type Json = Record<string, any>;
type Aliases = Map<string, string>;

class Collector {
  tables = new Set<string>();
  uses: ColumnUse[] = [];
  ctes = new Set<string>();

  use(ref: { table?: string; column: string } | undefined, use: ColumnUseKind) {
    if (ref) this.uses.push({ ...ref, use });
  }

  info(readOnly: boolean): StatementInfo {
    return { tables: [...this.tables], uses: this.uses, readOnly };
  }
}

const RANGE_OPS = new Set(['<', '>', '<=', '>=']);

// --- PostgreSQL (libpg_query JSON) ---------------------------------------------------------------

const sval = (n: Json | undefined): string | undefined => n?.String?.sval;

function pgColumn(e: Json | undefined, aliases: Aliases): { table?: string; column: string } | undefined {
  if (!e) return undefined;
  if (e.TypeCast) return pgColumn(e.TypeCast.arg, aliases);
  const fields = e.ColumnRef?.fields as Json[] | undefined;
  if (!fields) return undefined;
  const column = sval(fields.at(-1));
  if (!column) return undefined;
  if (fields.length === 1) return { column };
  const qualifier = sval(fields.at(-2))!;
  const table = aliases.get(qualifier);
  return table ? { table, column } : { column: `${qualifier}.${column}`, table: '\u0000unknown' };
}

const hasColumn = (e: unknown): boolean => JSON.stringify(e ?? null).includes('"ColumnRef"');

function pgLikePrefix(pattern: Json | undefined): boolean {
  const text = pattern?.A_Const?.sval?.sval ?? pattern?.TypeCast?.arg?.A_Const?.sval?.sval;
  // A parameter may hold anything; only a constant without a leading wildcard can use a btree.
  return typeof text === 'string' && text.length > 0 && !/^[%_]/.test(text);
}

function pgExpr(e: Json | undefined, aliases: Aliases, c: Collector): void {
  if (!e) return;
  if (e.BoolExpr) {
    if (e.BoolExpr.boolop !== 'NOT_EXPR') for (const arg of e.BoolExpr.args ?? []) pgExpr(arg, aliases, c);
    return;
  }
  if (e.NullTest) {
    if (e.NullTest.nulltesttype === 'IS_NULL') c.use(pgColumn(e.NullTest.arg, aliases), 'eq');
    return;
  }
  if (e.SubLink) {
    const link = e.SubLink;
    if (link.subLinkType === 'ANY_SUBLINK') c.use(pgColumn(link.testexpr, aliases), 'eq');
    pgStatement(link.subselect, aliases, c);
    return;
  }
  const a = e.A_Expr;
  if (!a) return;
  const op = sval(a.name?.[0]);
  const left = pgColumn(a.lexpr, aliases);
  const right = pgColumn(a.rexpr, aliases);
  if (a.kind === 'AEXPR_OP') {
    if (left && right) {
      if (op === '=') {
        c.use(left, 'join');
        c.use(right, 'join');
      }
      return;
    }
    const col = left ?? right;
    const other = left ? a.rexpr : a.lexpr;
    if (!col || hasColumn(other)) return;
    if (op === '=') c.use(col, 'eq');
    else if (op && RANGE_OPS.has(op)) c.use(col, 'range');
  } else if (a.kind === 'AEXPR_IN' && op === '=') {
    c.use(left, 'eq');
  } else if (a.kind === 'AEXPR_BETWEEN') {
    c.use(left, 'range');
  } else if (a.kind === 'AEXPR_LIKE' && op === '~~' && pgLikePrefix(a.rexpr)) {
    c.use(left, 'range');
  }
}

function pgFrom(f: Json, aliases: Aliases, c: Collector, quals: Json[]): void {
  if (f.RangeVar) {
    const rv = f.RangeVar;
    const name = rv.schemaname ? `${rv.schemaname}.${rv.relname}` : rv.relname;
    if (!c.ctes.has(rv.relname)) c.tables.add(name);
    aliases.set(rv.alias?.aliasname ?? rv.relname, name);
  } else if (f.JoinExpr) {
    pgFrom(f.JoinExpr.larg, aliases, c, quals);
    pgFrom(f.JoinExpr.rarg, aliases, c, quals);
    if (f.JoinExpr.quals) quals.push(f.JoinExpr.quals);
  } else if (f.RangeSubselect) {
    pgStatement(f.RangeSubselect.subquery, aliases, c);
  }
}

function pgStatement(node: Json | undefined, outer: Aliases, c: Collector): void {
  if (!node) return;
  const s = node.SelectStmt;
  if (s) {
    for (const cte of s.withClause?.ctes ?? []) {
      c.ctes.add(cte.CommonTableExpr.ctename);
      pgStatement(cte.CommonTableExpr.ctequery, outer, c);
    }
    if (s.op && s.op !== 'SETOP_NONE') {
      pgStatement({ SelectStmt: s.larg }, outer, c);
      pgStatement({ SelectStmt: s.rarg }, outer, c);
      return;
    }
    const aliases = new Map(outer);
    const quals: Json[] = [];
    for (const f of s.fromClause ?? []) pgFrom(f, aliases, c, quals);
    for (const q of quals) pgExpr(q, aliases, c);
    pgExpr(s.whereClause, aliases, c);
    for (const sort of s.sortClause ?? []) c.use(pgColumn(sort.SortBy?.node, aliases), 'sort');
    return;
  }
  const modify = node.UpdateStmt ?? node.DeleteStmt;
  if (modify) {
    const aliases = new Map(outer);
    const quals: Json[] = [];
    pgFrom({ RangeVar: modify.relation }, aliases, c, quals);
    for (const f of modify.fromClause ?? modify.usingClause ?? []) pgFrom(f, aliases, c, quals);
    pgExpr(modify.whereClause, aliases, c);
    return;
  }
  if (node.InsertStmt) pgStatement(node.InsertStmt.selectStmt, outer, c);
}

// --- MySQL / MariaDB (node-sql-parser AST) --------------------------------------------------------

function myColumn(e: Json | undefined, aliases: Aliases): { table?: string; column: string } | undefined {
  if (e?.type !== 'column_ref') return undefined;
  const column = typeof e.column === 'string' ? e.column : e.column?.expr?.value;
  if (typeof column !== 'string' || column === '*') return undefined;
  if (!e.table) return { column };
  const table = aliases.get(e.table);
  return table ? { table, column } : { column: `${e.table}.${column}`, table: '\u0000unknown' };
}

const myHasColumn = (e: unknown): boolean => JSON.stringify(e ?? null).includes('"column_ref"');

function myExpr(e: Json | undefined, aliases: Aliases, c: Collector): void {
  if (!e || typeof e !== 'object') return;
  if (e.ast) {
    myStatement(e.ast, aliases, c);
    return;
  }
  if (e.type !== 'binary_expr') return;
  const op = String(e.operator).toUpperCase();
  if (op === 'AND' || op === 'OR') {
    myExpr(e.left, aliases, c);
    myExpr(e.right, aliases, c);
    return;
  }
  const left = myColumn(e.left, aliases);
  const right = myColumn(e.right, aliases);
  if (op === '=' && left && right) {
    c.use(left, 'join');
    c.use(right, 'join');
    return;
  }
  if (op === 'IN') {
    c.use(left, 'eq');
    if (e.right?.ast) myStatement(e.right.ast, aliases, c);
    return;
  }
  if (op === 'IS' && e.right?.type === 'null') c.use(left, 'eq');
  else if (op === 'BETWEEN') c.use(left, 'range');
  else if (op === 'LIKE') {
    const pattern = e.right?.value;
    if (typeof pattern === 'string' && pattern.length > 0 && !/^[%_]/.test(pattern)) c.use(left, 'range');
  } else if (op === '=' || RANGE_OPS.has(op)) {
    const col = left ?? right;
    const other = left ? e.right : e.left;
    if (col && !myHasColumn(other)) c.use(col, op === '=' ? 'eq' : 'range');
  }
  if (e.right?.ast) myStatement(e.right.ast, aliases, c);
}

function myStatement(ast: Json | undefined, outer: Aliases, c: Collector): void {
  if (!ast) return;
  if (Array.isArray(ast)) {
    for (const a of ast) myStatement(a, outer, c);
    return;
  }
  for (const cte of ast.with ?? []) {
    const name = typeof cte.name === 'string' ? cte.name : cte.name?.value;
    if (name) c.ctes.add(name);
    myStatement(cte.stmt?.ast ?? cte.stmt, outer, c);
  }
  const aliases = new Map(outer);
  const from = ast.type === 'update' ? ast.table : ast.from;
  const quals: Json[] = [];
  for (const f of from ?? []) {
    if (f.expr?.ast) {
      myStatement(f.expr.ast, aliases, c);
      continue;
    }
    if (typeof f.table !== 'string') continue;
    if (!c.ctes.has(f.table)) c.tables.add(f.table);
    aliases.set(f.as ?? f.table, f.table);
    if (f.on) quals.push(f.on);
  }
  for (const q of quals) myExpr(q, aliases, c);
  myExpr(ast.where, aliases, c);
  for (const o of ast.orderby ?? []) c.use(myColumn(o.expr, aliases), 'sort');
  if (ast._next) myStatement(ast._next, outer, c);
}

/** The tables and column uses of a statement, or undefined when it cannot be parsed. */
export function describeStatement(sql: string, dialect: SqlDialect): StatementInfo | undefined {
  const c = new Collector();
  try {
    if (dialect === 'postgres') {
      const stmt = pgParser().parseSync(sql).stmts[0]?.stmt;
      if (!stmt) return undefined;
      pgStatement(stmt, new Map(), c);
      return c.info(
        'SelectStmt' in stmt &&
          !JSON.stringify(stmt).match(/"(InsertStmt|UpdateStmt|DeleteStmt|MergeStmt)"|"intoClause"/),
      );
    }
    const ast = mysqlParser().astify(sql) as Json;
    const first = Array.isArray(ast) ? ast[0] : ast;
    myStatement(ast, new Map(), c);
    return c.info(first?.type === 'select' && !first?.into?.position);
  } catch {
    return undefined;
  }
}
