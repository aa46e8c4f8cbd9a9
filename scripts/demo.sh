#!/usr/bin/env bash
# The demo: installs the workspace and tours every package on its embedded defaults (no services needed).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-pnpm.sh
pnpm demo
