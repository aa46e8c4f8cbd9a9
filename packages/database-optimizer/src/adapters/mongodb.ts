import { invariant, NoaError } from '@noa/core';
import type { AdapterExplain, QueryAdapter } from '../adapter.js';
import type { PlanNode, PlanNodeKind, ScanAccess } from '../plan.js';

/** A find, or an aggregation pipeline, on one collection. */
export type MongoQuery =
  | {
      collection: string;
      filter?: Record<string, unknown>;
      sort?: Record<string, 1 | -1>;
      projection?: Record<string, unknown>;
      limit?: number;
      skip?: number;
    }
  | { collection: string; pipeline: Record<string, unknown>[] };

/** The part of the official driver's `Db` this adapter uses. */
export interface MongoDbLike {
  command(command: Record<string, unknown>): Promise<Record<string, any>>;
}

export interface MongoAdapterOptions {
  /** A `Db` from the official `mongodb` driver (`client.db(name)`). */
  db: MongoDbLike;
}

type Json = Record<string, any>;

const STAGES: Record<string, { kind: PlanNodeKind; access?: ScanAccess }> = {
  COLLSCAN: { kind: 'scan', access: 'full' },
  IXSCAN: { kind: 'scan', access: 'index' },
  EXPRESS_IXSCAN: { kind: 'scan', access: 'index' },
  COUNT_SCAN: { kind: 'scan', access: 'index-only' },
  DISTINCT_SCAN: { kind: 'scan', access: 'index-only' },
  IDHACK: { kind: 'scan', access: 'lookup' },
  EXPRESS_IDHACK: { kind: 'scan', access: 'lookup' },
  FETCH: { kind: 'filter' },
  SORT: { kind: 'sort' },
  SORT_KEY_GENERATOR: { kind: 'other' },
  LIMIT: { kind: 'limit' },
  SKIP: { kind: 'limit' },
  PROJECTION_SIMPLE: { kind: 'projection' },
  PROJECTION_DEFAULT: { kind: 'projection' },
  PROJECTION_COVERED: { kind: 'projection' },
  GROUP: { kind: 'aggregate' },
  EQ_LOOKUP: { kind: 'join' },
};

/** Normalises one stage of MongoDB's explain (`executionStages` or `winningPlan`). */
export function normalizeMongoStage(stage: Json, collection?: string): PlanNode {
  const name = String(stage.stage ?? 'UNKNOWN');
  const known = STAGES[name] ?? { kind: 'other' as const };
  const inputs: Json[] = stage.inputStage ? [stage.inputStage] : (stage.inputStages ?? []);
  const node: PlanNode = {
    kind: known.kind,
    operation: name,
    children: inputs.map((s) => normalizeMongoStage(s, collection)),
  };
  if (known.access) node.access = known.access;
  if (known.kind === 'scan' && collection) node.table = collection;
  if (stage.indexName) node.index = stage.indexName;
  if (stage.filter && Object.keys(stage.filter).length > 0) node.filter = JSON.stringify(stage.filter);
  else if (stage.keyPattern) node.filter = `index ${JSON.stringify(stage.keyPattern)}`;
  if (stage.nReturned !== undefined) {
    node.actualRows = Number(stage.nReturned);
    node.loops = 1;
  }
  const examined = name === 'COLLSCAN' || name === 'FETCH' ? stage.docsExamined : stage.keysExamined;
  if (examined !== undefined) node.rowsExamined = Number(examined);
  if (stage.executionTimeMillisEstimate !== undefined)
    node.timeMs = Number(stage.executionTimeMillisEstimate);
  if (name === 'SORT') {
    if (stage.sortPattern) node.sortKey = Object.keys(stage.sortPattern);
    if (stage.usedDisk) node.spilled = true;
  }
  if (name === 'EQ_LOOKUP') node.joinType = stage.strategy === 'NestedLoopJoin' ? 'nested-loop' : 'hash';
  return node;
}

/** Normalises a whole explain document (find or aggregate, queryPlanner or executionStats). */
export function normalizeMongoExplain(explain: Json): AdapterExplain {
  // An aggregation's explain nests the find part under its first stage's $cursor.
  const cursor = explain.stages?.[0]?.$cursor ?? explain;
  const planner = cursor.queryPlanner ?? {};
  const collection =
    typeof planner.namespace === 'string' ? planner.namespace.split('.').slice(1).join('.') : undefined;
  const stats = cursor.executionStats;
  const winning = planner.winningPlan?.queryPlan ?? planner.winningPlan ?? {};
  const plan = normalizeMongoStage(stats?.executionStages ?? winning, collection);
  const out: AdapterExplain = { plan, raw: explain };
  if (stats) {
    out.totalMs = Number(stats.executionTimeMillis ?? 0);
    out.rows = Number(stats.nReturned ?? 0);
  }
  return out;
}

const shapeOf = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.length ? [shapeOf(value[0])] : [];
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.keys(value).map((k) => [k, shapeOf((value as Json)[k])]));
  }
  return '?';
};

const writesData = (query: MongoQuery) =>
  'pipeline' in query && query.pipeline.some((stage) => '$out' in stage || '$merge' in stage);

/**
 * The MongoDB adapter for the official driver: `explain` with `executionStats`, normalised into
 * the same plan tree as SQL. It has no index advisor (MongoDB has no hypothetical indexes).
 */
export function mongoAdapter(options: MongoAdapterOptions): QueryAdapter<MongoQuery> {
  invariant(
    typeof options?.db?.command === 'function',
    'mongoAdapter({ db }): db must be a Db from the mongodb driver',
  );
  const { db } = options;
  return {
    dialect: 'mongodb',
    isWrite: writesData,
    describe: (query) =>
      `${query.collection} ${JSON.stringify(shapeOf('pipeline' in query ? query.pipeline : query))}`,
    async explain(query, _params, { analyze }) {
      invariant(
        query && typeof query.collection === 'string',
        'mongoAdapter: the query must be { collection, filter, sort?, projection?, limit?, skip? } or { collection, pipeline }',
        'NOA_DBOPT_INVALID_QUERY',
      );
      if (analyze && writesData(query)) {
        throw new NoaError(
          'NOA_DBOPT_ANALYZE_UNSUPPORTED',
          'MongoDB cannot roll back a $out/$merge pipeline: explain it without analyze.',
        );
      }
      const inner =
        'pipeline' in query
          ? { aggregate: query.collection, pipeline: query.pipeline, cursor: {} }
          : {
              find: query.collection,
              filter: query.filter ?? {},
              ...(query.sort ? { sort: query.sort } : {}),
              ...(query.projection ? { projection: query.projection } : {}),
              ...(query.limit !== undefined ? { limit: query.limit } : {}),
              ...(query.skip !== undefined ? { skip: query.skip } : {}),
            };
      const result = await db.command({
        explain: inner,
        verbosity: analyze ? 'executionStats' : 'queryPlanner',
      });
      return normalizeMongoExplain(result);
    },
  };
}
