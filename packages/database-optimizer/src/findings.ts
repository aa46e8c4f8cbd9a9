import { type PlanNode, totalRows, walkPlan } from './plan.js';

export type FindingKind = 'full-scan' | 'row-estimate' | 'sort-spill' | 'nested-loop' | 'missing-join-index';

export type Severity = 'info' | 'warning' | 'critical';

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** The table (or collection) concerned, when there is one. */
  table?: string;
  /** What the plan shows, with its numbers. */
  detail: string;
  /** What to do about it. */
  suggestion: string;
}

export interface FindingOptions {
  /** A scan reading at least this many rows is "large" (default 10 000). */
  largeTableRows?: number;
  /** A scan keeping at most this share of the rows it reads is "selective" (default 0.1). */
  selectiveRatio?: number;
  /** Actual vs estimated rows off by at least this factor is reported (default 10). */
  estimateErrorFactor?: number;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Rows a scan read: reported directly, or produced plus removed by its filter. */
function examined(node: PlanNode): number | undefined {
  if (node.rowsExamined !== undefined) return node.rowsExamined;
  const produced = totalRows(node);
  if (produced === undefined) return undefined;
  return node.rowsRemovedByFilter === undefined ? undefined : produced + node.rowsRemovedByFilter;
}

/** The table read under a chain of single-input nodes (PostgreSQL's Memoize, Materialize). */
function tableBelow(node: PlanNode | undefined): string | undefined {
  if (!node) return undefined;
  return node.table ?? (node.children.length === 1 ? tableBelow(node.children[0]) : undefined);
}

function estimateError(node: PlanNode): number | undefined {
  if (node.actualRows === undefined || node.estimatedRows === undefined) return undefined;
  return (
    (Math.max(node.actualRows, node.estimatedRows) + 1) / (Math.min(node.actualRows, node.estimatedRows) + 1)
  );
}

/** Reads a normalised plan and says what is wrong with it, most severe first. */
export function findPlanIssues(plan: PlanNode, options: FindingOptions = {}): Finding[] {
  const large = options.largeTableRows ?? 10_000;
  const selective = options.selectiveRatio ?? 0.1;
  const estimateFactor = options.estimateErrorFactor ?? 10;
  const findings: Finding[] = [];
  const estimateReported = new Set<string>();
  // The inner side of a join already reported as missing an index is not a second problem.
  const joinInner = new Set<PlanNode>();

  walkPlan(plan, (node) => {
    if (node.kind === 'scan' && node.access === 'full' && !joinInner.has(node)) {
      const read = examined(node);
      const kept = totalRows(node);
      if (
        read !== undefined &&
        kept !== undefined &&
        read >= large &&
        node.filter &&
        kept <= read * selective
      ) {
        findings.push({
          kind: 'full-scan',
          severity: read >= large * 10 ? 'critical' : 'warning',
          table: node.table,
          detail: `${node.operation} of ${node.table} read ${fmt(read)} rows to keep ${fmt(kept)} (filter: ${node.filter})`,
          suggestion: `Index the filtered columns of ${node.table} (recommendIndexes proves which index helps).`,
        });
      }
    }

    const ratio = estimateError(node);
    // Report where the error starts: a node whose inputs are already off inherits their error.
    if (ratio !== undefined && !node.children.some((c) => (estimateError(c) ?? 0) >= estimateFactor)) {
      const actual = node.actualRows!;
      const estimated = node.estimatedRows!;
      const key = node.table ?? node.operation;
      if (
        ratio >= estimateFactor &&
        Math.max(actual, estimated) * (node.loops ?? 1) >= 100 &&
        !estimateReported.has(key)
      ) {
        estimateReported.add(key);
        findings.push({
          kind: 'row-estimate',
          severity: 'warning',
          table: node.table,
          detail: `${node.operation}${node.table ? ` on ${node.table}` : ''} estimated ${fmt(estimated)} rows but produced ${fmt(actual)} (${ratio.toFixed(0)}× off)`,
          suggestion: node.table
            ? `Refresh statistics (ANALYZE ${node.table}); for correlated columns add extended statistics (CREATE STATISTICS).`
            : 'Refresh statistics (ANALYZE) on the tables below this node; correlated predicates may need extended statistics.',
        });
      }
    }

    if (node.spilled) {
      findings.push({
        kind: 'sort-spill',
        severity: 'warning',
        table: node.table,
        detail: `${node.operation} spilled to disk${node.sortKey?.length ? ` (sort key ${node.sortKey.join(', ')})` : ''}`,
        suggestion:
          'Give the sort more memory (work_mem / sort_buffer_size), return fewer rows, or add an index whose order matches the ORDER BY.',
      });
    }

    if (node.kind === 'join' && (node.joinType === 'nested-loop' || node.joinType === 'block-nested-loop')) {
      const [outer, inner] = node.children;
      const outerRows = outer ? totalRows(outer) : undefined;
      if (inner?.kind === 'scan' && inner.access === 'full' && (outerRows ?? 0) > 1) {
        const innerRead = examined(inner) ?? totalRows(inner) ?? 0;
        if (innerRead * (inner.loops ?? 1) >= large || (outerRows ?? 0) * innerRead >= large) {
          joinInner.add(inner);
          findings.push({
            kind: 'missing-join-index',
            severity: 'critical',
            table: inner.table,
            detail: `${node.operation} reads all of ${inner.table} for each of ${fmt(outerRows ?? 0)} outer rows${inner.filter ? ` (condition: ${inner.filter})` : ''}`,
            suggestion: `Index the join column of ${inner.table}.`,
          });
          return;
        }
      }
      if (outerRows !== undefined && outerRows >= large) {
        findings.push({
          kind: 'nested-loop',
          severity: 'warning',
          table: tableBelow(inner),
          detail: `${node.operation} over ${fmt(outerRows)} outer rows`,
          suggestion:
            'A hash or merge join is usually cheaper for inputs this large: check the row estimates, and filter earlier.',
        });
      }
    }
  });

  const rank: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };
  return findings.sort((a, b) => rank[a.severity] - rank[b.severity]);
}
