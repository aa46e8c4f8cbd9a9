import { describe, expect, it } from 'vitest';
import { postgresAdapter } from '../src/postgres.js';

describe('postgresAdapter advisor sessions on a pool', () => {
  it('a session that fails to open gives its connection back (as broken) instead of leaking it', async () => {
    const released: unknown[] = [];
    const statements: string[] = [];
    const client = {
      async query(text: string) {
        statements.push(text);
        if (text === 'BEGIN') throw new Error('connection reset by peer');
        return { rows: [] };
      },
      release(error?: unknown) {
        released.push(error);
      },
    };
    // A stand-in for pg's Pool (connect() hands out clients, totalCount marks it as a pool).
    const pool = { query: client.query, connect: async () => client, totalCount: 1 };
    const { advisor } = postgresAdapter({ pool, proof: 'rollback' });
    await expect(advisor.openSession(['orders'])).rejects.toThrow('connection reset by peer');
    expect(released).toHaveLength(1);
    expect(released[0]).toBeInstanceOf(Error);
    expect(statements).toEqual(['BEGIN', 'ROLLBACK']);
  });
});
