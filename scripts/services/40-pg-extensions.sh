#!/usr/bin/env bash
# PostgreSQL extensions for @noa/database-optimizer: HypoPG (hypothetical indexes, to prove index
# advice without building anything) and pg_stat_statements (a workload source). HypoPG needs no
# preload; pg_stat_statements must be in shared_preload_libraries, which takes a server restart.
# The restart happens only when the setting is not already active, so running this twice (or on a
# machine that was set up before) never disrupts the other test suites using this server.
# Extensions themselves are created per test database (CREATE EXTENSION IF NOT EXISTS ...).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

version="$(ls /etc/postgresql | sort -V | tail -1)"
apt_install "postgresql-${version}-hypopg"

conf_dir="/etc/postgresql/${version}/main/conf.d"
conf_file="${conf_dir}/50-noa-pg-stat-statements.conf"
psql_q() { psql -h 127.0.0.1 -U postgres -d postgres -tAc "$1"; }

wait_for_port 127.0.0.1 5432 PostgreSQL 60
active="$(psql_q 'SHOW shared_preload_libraries' | tr -d ' ')"
if [[ ",${active}," == *",pg_stat_statements,"* ]]; then
  log "pg_stat_statements is already preloaded; no restart"
  exit 0
fi

# Keep whatever libraries are already preloaded and add ours.
if [ -n "$active" ]; then libs="${active},pg_stat_statements"; else libs="pg_stat_statements"; fi
mkdir -p "$conf_dir"
cat >"$conf_file" <<EOF
# Written by scripts/services/40-pg-extensions.sh (Noa): pg_stat_statements for @noa/database-optimizer.
shared_preload_libraries = '${libs}'
pg_stat_statements.track = top
EOF
chown postgres:postgres "$conf_file" 2>/dev/null || true

log "restarting PostgreSQL ${version}/main once to preload pg_stat_statements"
pg_ctlcluster --skip-systemctl-redirect "$version" main restart -m fast
wait_for_port 127.0.0.1 5432 PostgreSQL 60
# The port opens slightly before the server accepts queries; wait until it answers.
for _ in $(seq 1 50); do
  if psql_q 'SELECT 1' >/dev/null 2>&1; then break; fi
  sleep 0.2
done
active="$(psql_q 'SHOW shared_preload_libraries' | tr -d ' ')"
if [[ ",${active}," != *",pg_stat_statements,"* ]]; then
  log "ERROR: pg_stat_statements is not preloaded after the restart (shared_preload_libraries='${active}')"
  exit 1
fi
log "pg_stat_statements is preloaded"
