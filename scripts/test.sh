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
pnpm exec turbo run test --continue --concurrency=3 "$@" || status=$?
if node scripts/test-summary.mjs; then
  # Vitest also fails a run on errors outside any test (unhandled rejections, a worker that died).
  [ "$status" -eq 0 ] || echo "a test command failed with no failing test: see 'Unhandled' / 'Error' in its output above"
else
  status=1
fi
exit $status
