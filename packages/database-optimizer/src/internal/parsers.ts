import { createRequire } from 'node:module';
import { NoaError } from '@noa/core';

/**
 * Lazy access to the two SQL parsers. The PostgreSQL parser (libpg_query compiled to WASM) needs an
 * asynchronous load once per process; nothing is loaded at import time. Both are loaded through
 * `require` because the parser's ESM entry is not loadable by Node (its CJS entry is).
 */
export interface PgParser {
  parseSync(sql: string): { stmts: { stmt: Record<string, unknown> }[] };
  fingerprintSync(sql: string): string;
  normalizeSync(sql: string): string;
}

export interface MysqlParser {
  astify(sql: string): unknown;
  sqlify(ast: unknown): string;
}

let requireHere: NodeRequire | undefined;
// The CJS build gets `import.meta.url` from tsup's shims (see tsup.config.ts).
const load = (id: string): unknown => (requireHere ??= createRequire(import.meta.url))(id);

let pg: PgParser | undefined;
let pgLoading: Promise<PgParser> | undefined;
let mysql: MysqlParser | undefined;

/**
 * Loads the PostgreSQL parser (idempotent; about 10 ms once). `createQueryAnalyzer`,
 * `createN1Detector` and `recommendIndexes` call it for you; call it yourself before using
 * `fingerprint()` on its own.
 */
export function loadParser(): Promise<void> {
  pgLoading ??= (async () => {
    const module = load('@libpg-query/parser') as PgParser & { loadModule(): Promise<void> };
    await module.loadModule();
    pg = module;
    return module;
  })();
  return pgLoading.then(() => undefined);
}

export function isParserLoaded(): boolean {
  return pg !== undefined;
}

export function pgParser(): PgParser {
  if (!pg) {
    throw new NoaError(
      'NOA_DBOPT_PARSER_NOT_LOADED',
      'The PostgreSQL parser is not loaded yet: `await loadParser()` once at startup (createQueryAnalyzer, createN1Detector and recommendIndexes do it for you).',
    );
  }
  return pg;
}

/**
 * node-sql-parser's MySQL grammar, with its MariaDB grammar as a second try (each rejects some
 * valid statements of the other, e.g. the MariaDB grammar trips on a column named `status`).
 */
export function mysqlParser(): MysqlParser {
  if (!mysql) {
    type Raw = { astify(sql: string, o: object): unknown; sqlify(ast: unknown, o: object): string };
    const make = (build: string) =>
      new (load(`node-sql-parser/build/${build}`) as { Parser: new () => Raw }).Parser();
    const primary = make('mysql');
    let secondary: Raw | undefined;
    mysql = {
      astify(sql) {
        try {
          return primary.astify(sql, { database: 'mysql' });
        } catch (error) {
          secondary ??= make('mariadb');
          try {
            return secondary.astify(sql, { database: 'mariadb' });
          } catch {
            throw error;
          }
        }
      },
      sqlify: (ast) => primary.sqlify(ast, { database: 'mysql' }),
    };
  }
  return mysql;
}
