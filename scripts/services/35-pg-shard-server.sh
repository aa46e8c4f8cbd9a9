#!/usr/bin/env bash
# A second, independent and writable PostgreSQL cluster on 127.0.0.1:5434 ("shard"), for
# @noa/database-sharding's tests: shards that live on a separate server, not only in separate
# databases of the main cluster. Idempotent: creates the cluster once, configures trust auth on
# loopback like the main cluster, starts it when it is stopped and creates the `test` database.
# The main cluster (5432) and the replica (5433) are never touched.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

version="$(ls /etc/postgresql | sort -V | tail -1)"
name=shard
port=5434

running() { pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1 == v && $2 == n { print $4 }' | grep -q online; }

pg_cluster_create "$version" "$name" "$port"

conf="/etc/postgresql/${version}/${name}/conf.d/90-noa-shard.conf"
if [ ! -f "$conf" ]; then
  cat >"$conf" <<CONF
# Written by scripts/services/35-pg-shard-server.sh (Noa)
listen_addresses = '127.0.0.1'
port = ${port}
max_connections = 200
CONF
  chown postgres:postgres "$conf"
fi

# Like the main cluster on this kind of machine: trust on loopback (tests connect as postgres).
hba="/etc/postgresql/${version}/${name}/pg_hba.conf"
if ! grep -q 'Noa shard server' "$hba"; then
  cat >"$hba" <<HBA
# Noa shard server (scripts/services/35-pg-shard-server.sh): trust on loopback, like the main cluster
local all all trust
host all all 127.0.0.1/32 trust
HBA
  chown postgres:postgres "$hba"
  if running; then pg_ctlcluster --skip-systemctl-redirect "$version" "$name" reload; fi
fi

if ! running; then
  log "starting ${version}/${name}"
  pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start
fi
wait_for_port 127.0.0.1 "$port" "PostgreSQL shard server" 60

psql_shard() { psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "$1"; }
for _ in $(seq 1 50); do psql_shard 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
psql_shard "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 ||
  psql_shard 'CREATE DATABASE test' >/dev/null
log "PostgreSQL shard server is up on 127.0.0.1:${port} (database test)"
