import { describe, expect, it } from 'vitest';
import { findPlanIssues, type PlanNode } from '../src/index.js';
import { normalizeMysqlPlan } from '../src/mysql.js';
import { normalizePostgresPlan } from '../src/postgres.js';

/** MySQL 8.0's EXPLAIN FORMAT=JSON, in the shape the server documents (no MySQL server runs here). */
const mysql8Explain = {
  query_block: {
    select_id: 1,
    cost_info: { query_cost: '20513.45' },
    ordering_operation: {
      using_filesort: true,
      nested_loop: [
        {
          table: {
            table_name: 'u',
            access_type: 'ALL',
            rows_examined_per_scan: 29874,
            rows_produced_per_join: 2987,
            filtered: '10.00',
            cost_info: { read_cost: '2700.45', eval_cost: '298.74', prefix_cost: '2999.19' },
            attached_condition: "(`shop`.`u`.`country` = 'de')",
          },
        },
        {
          table: {
            table_name: 'o',
            access_type: 'ALL',
            rows_examined_per_scan: 119742,
            rows_produced_per_join: 35766,
            filtered: '10.00',
            using_join_buffer: 'hash join',
            attached_condition: '(`shop`.`o`.`user_id` = `shop`.`u`.`id`)',
          },
        },
      ],
    },
  },
};

describe('plan normalisers', () => {
  it('MySQL 8 EXPLAIN FORMAT=JSON (fixture): a sort over a left-deep join of two full scans', () => {
    const plan = normalizeMysqlPlan(mysql8Explain);
    expect(plan.kind).toBe('sort');
    const join = plan.children[0]!;
    expect(join).toMatchObject({ kind: 'join', joinType: 'nested-loop' });
    expect(join.children.map((c) => [c.table, c.access, c.rowsExamined, c.estimatedRows])).toEqual([
      ['u', 'full', 29874, 2987.4],
      ['o', 'full', 119742, 11974.2],
    ]);
    // Most severe first; the join's inner scan is one problem, not two.
    expect(findPlanIssues(plan).map((f) => [f.kind, f.severity, f.table])).toEqual([
      ['missing-join-index', 'critical', 'o'],
      ['full-scan', 'warning', 'u'],
    ]);
  });

  it('PostgreSQL EXPLAIN ANALYZE JSON: per-loop counts become totals; spills and estimates are read', () => {
    const plan = normalizePostgresPlan({
      'Node Type': 'Sort',
      'Plan Rows': 10,
      'Actual Rows': 5000,
      'Actual Loops': 1,
      'Total Cost': 900,
      'Actual Total Time': 40,
      'Sort Key': ['t.b'],
      'Sort Method': 'external merge',
      'Sort Space Type': 'Disk',
      Plans: [
        {
          'Node Type': 'Nested Loop',
          'Plan Rows': 10,
          'Actual Rows': 5000,
          'Actual Loops': 1,
          Plans: [
            {
              'Node Type': 'Seq Scan',
              'Relation Name': 'a',
              'Plan Rows': 50000,
              'Actual Rows': 50000,
              'Actual Loops': 1,
            },
            {
              'Node Type': 'Seq Scan',
              'Relation Name': 'b',
              'Plan Rows': 1,
              'Actual Rows': 0.1,
              'Actual Loops': 50000,
              'Rows Removed by Filter': 999,
              Filter: '(b.a_id = a.id)',
            },
          ],
        },
      ],
    });
    const inner = plan.children[0]!.children[1]!;
    expect(inner).toMatchObject({ access: 'full', loops: 50000, rowsRemovedByFilter: 999 * 50000 });
    const kinds = findPlanIssues(plan).map((f) => f.kind);
    expect(kinds).toContain('missing-join-index');
    expect(kinds).toContain('sort-spill');
    expect(kinds).toContain('row-estimate');
    expect(findPlanIssues(plan)[0]!.severity).toBe('critical');
  });

  it('findings stay quiet on healthy plans and respect their thresholds', () => {
    const indexScan: PlanNode = {
      kind: 'scan',
      operation: 'Index Scan',
      access: 'index',
      table: 't',
      estimatedRows: 1,
      actualRows: 1,
      loops: 1,
      children: [],
    };
    expect(findPlanIssues(indexScan)).toEqual([]);
    const smallScan: PlanNode = {
      kind: 'scan',
      operation: 'Seq Scan',
      access: 'full',
      table: 't',
      filter: 'a = 1',
      actualRows: 1,
      loops: 1,
      rowsRemovedByFilter: 500,
      children: [],
    };
    expect(findPlanIssues(smallScan)).toEqual([]);
    expect(findPlanIssues(smallScan, { largeTableRows: 100 }).map((f) => f.kind)).toEqual(['full-scan']);
  });
});
