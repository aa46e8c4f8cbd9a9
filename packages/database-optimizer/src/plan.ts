/**
 * The normalised plan tree: the same shape for PostgreSQL, MariaDB/MySQL and MongoDB, so findings
 * and tools are written once. Numbers a database does not report are left undefined.
 */
export type PlanNodeKind =
  | 'scan'
  | 'join'
  | 'sort'
  | 'aggregate'
  | 'limit'
  | 'filter'
  | 'projection'
  | 'subquery'
  | 'modify'
  | 'other';

/** How a scan reads its table: every row, through an index, or through the index alone. */
export type ScanAccess = 'full' | 'index' | 'index-only' | 'bitmap' | 'lookup';

export interface PlanNode {
  kind: PlanNodeKind;
  /** The database's own name for the operation (`Seq Scan`, `ALL`, `COLLSCAN`, `Nested Loop`). */
  operation: string;
  access?: ScanAccess;
  /** Table or collection read by a scan. */
  table?: string;
  /** Index used, if any. */
  index?: string;
  /** Condition applied by this node, as the database printed it. */
  filter?: string;
  /** Join method for joins (`nested-loop`, `hash`, `merge`, `block-nested-loop`). */
  joinType?: 'nested-loop' | 'hash' | 'merge' | 'block-nested-loop';
  /** Planner estimate of rows produced per execution. */
  estimatedRows?: number;
  /** Rows actually produced per execution (ANALYZE only). */
  actualRows?: number;
  /** How many times the node ran (ANALYZE only). */
  loops?: number;
  /** Rows read and discarded by the filter, over all loops (ANALYZE only). */
  rowsRemovedByFilter?: number;
  /** Rows or documents read by the node, over all loops, when the database reports it. */
  rowsExamined?: number;
  /** Planner cost (PostgreSQL units), when the database reports one. */
  cost?: number;
  /** Time spent in the node and below, in ms, over all loops (ANALYZE only). */
  timeMs?: number;
  /** Whether a sort or hash spilled to disk. */
  spilled?: boolean;
  /** Sort keys for sorts. */
  sortKey?: string[];
  children: PlanNode[];
}

/** Visits every node depth-first, parents before children. */
export function walkPlan(
  plan: PlanNode,
  visit: (node: PlanNode, parent: PlanNode | undefined) => void,
): void {
  const stack: [PlanNode, PlanNode | undefined][] = [[plan, undefined]];
  while (stack.length > 0) {
    const [node, parent] = stack.pop()!;
    visit(node, parent);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push([node.children[i]!, node]);
  }
}

/** Rows a node produced over all its loops (actual when analysed, else the estimate). */
export function totalRows(node: PlanNode): number | undefined {
  const perLoop = node.actualRows ?? node.estimatedRows;
  return perLoop === undefined ? undefined : perLoop * (node.loops ?? 1);
}
