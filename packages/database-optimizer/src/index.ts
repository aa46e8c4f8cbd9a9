export type {
  AdapterDialect,
  AdapterExplain,
  AdvisorSession,
  IndexAdvisor,
  IndexHandle,
  IndexProof,
  QueryAdapter,
  WorkloadQuery,
} from './adapter.js';
export {
  type AnalyzerEvents,
  createQueryAnalyzer,
  type ExplainOptions,
  type ExplainReport,
  type QueryAnalyzer,
  type QueryAnalyzerOptions,
  type QueryStats,
  type SlowQuery,
} from './analyzer.js';
export {
  type Finding,
  type FindingKind,
  type FindingOptions,
  findPlanIssues,
  type Severity,
} from './findings.js';
export {
  type FingerprintOptions,
  fingerprint,
  type QueryShape,
  queryShape,
  type SqlDialect,
} from './fingerprint.js';
export { loadParser } from './internal/parsers.js';
export {
  createN1Detector,
  type FastifyLike,
  type N1Capture,
  type N1Detector,
  type N1DetectorOptions,
  type N1Report,
  type N1Scope,
} from './n1-detector.js';
export { type PlanNode, type PlanNodeKind, type ScanAccess, totalRows, walkPlan } from './plan.js';
export { type IndexRecommendation, type RecommendIndexesOptions, recommendIndexes } from './recommend.js';
export { type Rewrite, type RewriteOptions, type RewriteRule, rewriteQuery } from './rewrite.js';
