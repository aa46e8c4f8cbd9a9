#!/usr/bin/env bash
# A real PostgreSQL streaming replica of the main cluster (127.0.0.1:5432) on 127.0.0.1:5433, for
# @noa/connection-pool's read/write splitting, replication-lag and causal-read tests.
# Idempotent: creates the cluster once (pg_createcluster + pg_basebackup -R), starts it when it is
# stopped, rebuilds it when it no longer streams. The main cluster is never restarted: when its
# pg_hba.conf lacks a replication rule for loopback, the rule is added and the config reloaded.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

version="$(ls /etc/postgresql | sort -V | tail -1)"
name=replica
port=5433
psql_primary() { psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -tAc "$1"; }
psql_replica() { psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "$1"; }

wait_for_port 127.0.0.1 5432 PostgreSQL 60

wal_level="$(psql_primary 'SHOW wal_level')"
if [ "$wal_level" = minimal ]; then
  log "ERROR: the main cluster runs with wal_level=minimal; streaming replication needs 'replica' (a restart, which this script never does)"
  exit 1
fi

hba_file="$(psql_primary 'SHOW hba_file')"
if ! grep -Eq '^[[:space:]]*host[[:space:]]+replication[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba_file"; then
  log "allowing loopback replication in ${hba_file} (reload, no restart)"
  printf '# Added by scripts/services/30-pg-replica.sh (Noa): the streaming replica on port %s.\nhost replication all 127.0.0.1/32 trust\n' "$port" >>"$hba_file"
  psql_primary 'SELECT pg_reload_conf()' >/dev/null
  sleep 0.5
fi

data_dir="/var/lib/postgresql/${version}/${name}"
pg_cluster_create "$version" "$name" "$port"
conf="/etc/postgresql/${version}/${name}/conf.d/90-noa-replica.conf"
if [ ! -f "$conf" ]; then
  cat >"$conf" <<CONF
# Written by scripts/services/30-pg-replica.sh (Noa)
listen_addresses = '127.0.0.1'
port = ${port}
hot_standby = on
hot_standby_feedback = on
CONF
  chown postgres:postgres "$conf"
fi

# Like the main cluster on this kind of machine: trust on loopback (tests connect as postgres).
hba="/etc/postgresql/${version}/${name}/pg_hba.conf"
if ! grep -q 'Noa replica' "$hba"; then
  cat >"$hba" <<HBA
# Noa replica (scripts/services/30-pg-replica.sh): trust on loopback, like the main cluster
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
HBA
  chown postgres:postgres "$hba"
  if pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1 == v && $2 == n { print $4 }' | grep -q online; then
    pg_ctlcluster --skip-systemctl-redirect "$version" "$name" reload
  fi
fi

running() { pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1 == v && $2 == n { print $4 }' | grep -q online; }

rebuild() {
  log "taking a base backup of 127.0.0.1:5432 into ${data_dir}"
  if running; then pg_ctlcluster --skip-systemctl-redirect "$version" "$name" stop -m fast; fi
  rm -rf "$data_dir"
  install -d -o postgres -g postgres -m 700 "$data_dir"
  runuser -u postgres -- pg_basebackup -h 127.0.0.1 -p 5432 -U postgres -D "$data_dir" -R -X stream -c fast
}

[ -f "${data_dir}/standby.signal" ] || rebuild
if ! running; then
  log "starting ${version}/${name}"
  pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start
fi
wait_for_port 127.0.0.1 "$port" "PostgreSQL replica" 60

streaming() {
  [ "$(psql_replica 'SELECT pg_is_in_recovery()' 2>/dev/null)" = t ] &&
    [ "$(psql_replica "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'" 2>/dev/null)" = 1 ]
}
for attempt in 1 2; do
  for _ in $(seq 1 150); do
    if streaming; then
      # Tests may pause replay to create lag; a replica left paused by a killed run is resumed here.
      psql_replica 'SELECT pg_wal_replay_resume()' >/dev/null 2>&1 || true
      log "PostgreSQL replica streams from 127.0.0.1:5432 on 127.0.0.1:${port}"
      exit 0
    fi
    sleep 0.2
  done
  [ "$attempt" = 2 ] && break
  log "the replica does not stream (WAL gone while it was down?); rebuilding it"
  rebuild
  pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start
  wait_for_port 127.0.0.1 "$port" "PostgreSQL replica" 60
done
log "ERROR: the replica on ${port} does not stream; see /var/log/postgresql/postgresql-${version}-${name}.log"
exit 1
