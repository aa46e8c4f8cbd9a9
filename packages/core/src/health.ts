import { withTimeout } from './timeout.js';

/** The statuses of the IETF health-check response format: pass, warn (degraded), fail. */
export type HealthStatus = 'pass' | 'warn' | 'fail';

export interface HealthCheckResult {
  status: HealthStatus;
  /** What went wrong, for warn and fail. */
  output?: string;
  /** A measured value, e.g. replication lag in ms. */
  observedValue?: unknown;
}

export interface HealthCheck {
  name: string;
  check(): Promise<HealthCheckResult>;
}

export interface HealthReport {
  /** The worst status of all checks. */
  status: HealthStatus;
  checks: Record<string, HealthCheckResult & { durationMs: number }>;
}

const rank: Record<HealthStatus, number> = { pass: 0, warn: 1, fail: 2 };

/** Runs checks in parallel; a check that throws or exceeds `timeoutMs` fails with the reason. */
export async function runHealthChecks(
  checks: HealthCheck[],
  { timeoutMs = 5_000 }: { timeoutMs?: number } = {},
): Promise<HealthReport> {
  const results = await Promise.all(
    checks.map(async (item) => {
      const started = performance.now();
      let result: HealthCheckResult;
      try {
        result = await withTimeout(item.check(), timeoutMs);
      } catch (error) {
        result = { status: 'fail', output: error instanceof Error ? error.message : String(error) };
      }
      return [item.name, { ...result, durationMs: performance.now() - started }] as const;
    }),
  );
  let status: HealthStatus = 'pass';
  for (const [, result] of results) if (rank[result.status] > rank[status]) status = result.status;
  return { status, checks: Object.fromEntries(results) };
}
