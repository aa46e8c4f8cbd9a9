#!/usr/bin/env bash
# Starts and waits for every service the test suite needs. Idempotent: run it as often as you like.
# Each NN-name.sh beside this file handles one service (or a group), in numeric order.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
for script in "$dir"/[0-9][0-9]-*.sh; do
  echo "[services] == $(basename "$script")" >&2
  bash "$script"
done
echo "[services] all services are up" >&2
