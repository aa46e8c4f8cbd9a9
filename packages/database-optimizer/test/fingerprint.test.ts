import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fingerprint, loadParser, queryShape } from '../src/index.js';
import { isWriteStatement, tokenize } from '../src/internal/tokens.js';

describe('fingerprint', () => {
  it('asks for loadParser() before the PostgreSQL parser is loaded', async () => {
    expect(() => fingerprint('SELECT 1')).toThrow(
      expect.objectContaining({ code: 'NOA_DBOPT_PARSER_NOT_LOADED' }),
    );
    await loadParser();
    expect(fingerprint('SELECT 1')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('PostgreSQL (libpg_query): constants, IN-list lengths, case and whitespace do not matter', async () => {
    await loadParser();
    const a = fingerprint('SELECT * FROM users WHERE id = 5 AND country IN (1, 2, 3)');
    expect(fingerprint('select *\n  from users where id = 7 and country in (4)')).toBe(a);
    expect(fingerprint('SELECT * FROM users WHERE id = $1 AND country IN ($2)')).toBe(a);
    expect(fingerprint('SELECT * FROM users WHERE email = 5 AND country IN (1)')).not.toBe(a);
    expect(queryShape("SELECT * FROM t WHERE a = 'secret'")).toMatchObject({
      normalized: 'SELECT * FROM t WHERE a = $1',
      method: 'libpg_query',
    });
  });

  it('PostgreSQL property: any integer and string constants give the same fingerprint', async () => {
    await loadParser();
    const base = fingerprint("SELECT id FROM orders WHERE user_id = 1 AND note = 'x' LIMIT 10");
    fc.assert(
      fc.property(fc.integer(), fc.string(), fc.nat(1000), (n, s, limit) => {
        const quoted = s.replace(/'/g, "''");
        expect(
          fingerprint(`SELECT id FROM orders WHERE user_id = ${n} AND note = '${quoted}' LIMIT ${limit}`),
        ).toBe(base);
      }),
    );
  });

  it('MySQL (node-sql-parser): constants and IN lists collapse; the shape is kept', () => {
    const a = queryShape("SELECT `id` FROM users WHERE status = 'paid' AND id IN (1,2,3) LIMIT 10", {
      dialect: 'mysql',
    });
    const b = queryShape('select id from users where status = "new" and id in (9) limit 5', {
      dialect: 'mysql',
    });
    expect(a.method).toBe('node-sql-parser');
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.normalized).not.toContain('paid');
    expect(fingerprint('SELECT id FROM users WHERE email = ?', { dialect: 'mysql' })).not.toBe(a.fingerprint);
  });

  it('falls back to tokens for text the parser cannot read, with the same guarantees', () => {
    const weird = (n: number) => `SELECT id FROM t WHERE a = ${n} PROCEDURE ANALYSE() INTO OUTFILE 'x${n}'`;
    const a = queryShape(weird(1), { dialect: 'mysql' });
    expect(a.method).toBe('tokens');
    fc.assert(
      fc.property(fc.nat(), (n) => {
        expect(queryShape(weird(n), { dialect: 'mysql' }).fingerprint).toBe(a.fingerprint);
      }),
    );
    expect(a.normalized).toBe('SELECT id FROM t WHERE a = ? PROCEDURE ANALYSE() INTO OUTFILE ?');
  });

  it('validates input', () => {
    expect(() => fingerprint(42 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'NOA_DBOPT_INVALID_SQL' }),
    );
  });
});

describe('tokenizer', () => {
  it('never splits a literal: re-joined tokens keep every quote, comment-free', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const literal = `'${s.replace(/'/g, "''").replace(/\\/g, '\\\\')}'`;
        const tokens = tokenize(`SELECT ${literal} AS x -- comment\n/* block */`);
        expect(tokens.map((t) => t.kind)).toEqual(['word', 'string', 'word', 'word']);
        expect(tokens[1]!.text).toBe(literal);
      }),
    );
  });

  it('tells writes from reads', () => {
    for (const sql of [
      'INSERT INTO t VALUES (1)',
      'update t set a = 1',
      'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d',
      'SELECT * INTO t2 FROM t',
      'TRUNCATE t',
      'CALL p()',
    ]) {
      expect(isWriteStatement(sql), sql).toBe(true);
    }
    for (const sql of [
      'SELECT * FROM t',
      "SELECT 'DELETE FROM t' AS s",
      'select replace(a, 1, 2) from t',
      'SELECT * FROM t FOR UPDATE',
      'WITH x AS (SELECT 1) SELECT * FROM x',
      '(SELECT 1) UNION (SELECT 2)',
    ]) {
      expect(isWriteStatement(sql), sql).toBe(false);
    }
  });
});
