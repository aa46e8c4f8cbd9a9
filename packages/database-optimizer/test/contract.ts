import { describe, expect, it } from 'vitest';
import type { QueryAdapter } from '../src/index.js';
import { createQueryAnalyzer } from '../src/index.js';

export interface ContractSetup<Query> {
  adapter: () => QueryAdapter<Query>;
  /** A read of 10 rows out of a table of at least 10 000, filtered on a column without an index. */
  selectiveRead: Query;
  /** A statement that writes. */
  write: Query;
  /** Whether the backend can execute (analyze) statements. */
  canAnalyze?: boolean;
}

/** The behaviour every adapter shares: a normalised plan tree, analyze, and the write gate. */
export function adapterContract<Query>(name: string, setup: ContractSetup<Query>) {
  describe(`adapter contract: ${name}`, () => {
    it('explains into the normalised tree', async () => {
      const analyzer = createQueryAnalyzer({ adapter: setup.adapter() });
      const report = await analyzer.explain(setup.selectiveRead);
      const scans: string[] = [];
      const visit = (n: typeof report.plan) => {
        expect(typeof n.operation).toBe('string');
        expect(Array.isArray(n.children)).toBe(true);
        if (n.kind === 'scan') scans.push(`${n.access}`);
        n.children.forEach(visit);
      };
      visit(report.plan);
      expect(scans).toContain('full');
      expect(report.fingerprint).toMatch(/^[0-9a-f]{16}$/);
      expect(Array.isArray(report.findings)).toBe(true);
    });

    it.skipIf(setup.canAnalyze === false)(
      'analyze measures rows and reports the selective full scan',
      async () => {
        const analyzer = createQueryAnalyzer({ adapter: setup.adapter() });
        const report = await analyzer.explain(setup.selectiveRead, [], { analyze: true });
        expect(report.rows).toBe(10);
        expect(report.totalMs).toBeGreaterThanOrEqual(0);
        expect(report.findings.map((f) => f.kind)).toContain('full-scan');
      },
    );

    it('refuses analyze on a write without allowWrites', async () => {
      const adapter = setup.adapter();
      expect(adapter.isWrite(setup.write)).toBe(true);
      expect(adapter.isWrite(setup.selectiveRead)).toBe(false);
      const analyzer = createQueryAnalyzer({ adapter });
      await expect(analyzer.explain(setup.write, [], { analyze: true })).rejects.toMatchObject({
        code: 'NOA_DBOPT_WRITE_NOT_ALLOWED',
      });
    });
  });
}
