#!/usr/bin/env bash
# The test command: installs, starts every service the tests need, runs every package's tests
# against them, and prints one closing line for the whole monorepo.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-pnpm.sh
bash scripts/services/up.sh
export TURBO_TELEMETRY_DISABLED=1 NOA_VITEST_JSON=1
rm -rf packages/*/.vitest-results examples/*/.vitest-results
status=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
pnpm exec turbo run test --continue --concurrency=3 "$@" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
  # The failures again, at the end where a truncated CI log still shows them: failed tests and
  # files, and errors outside any test (unhandled rejections, hook timeouts, a worker that died).
  echo "---- failures ----"
  sed 's/\x1b\[[0-9;]*m//g' "$log" |
    grep -E -A6 'FAIL |Unhandled|timed out|Timeout terminating|exited unexpectedly|ERROR +command' | head -150 || true
fi
node scripts/test-summary.mjs || status=1
exit $status
