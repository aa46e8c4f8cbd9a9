#!/usr/bin/env bash
# A real Redis Cluster for the Cluster tests of @noa/cache-manager (and @noa/rate-limiter):
# three masters, no replicas, on 127.0.0.1 ports 7000, 7001 and 7002 (keep these ports stable:
# tests connect to them by default; override with REDIS_CLUSTER_NODES=127.0.0.1:7000,...).
# Each node is its own `redis-server --cluster-enabled yes` process with its data directory under
# /var/lib/noa-redis-cluster/<port>, without persistence. Idempotent: nodes already running are
# left alone, and the cluster is created only when `cluster info` is not already cluster_state:ok.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ports=(7000 7001 7002)
base=/var/lib/noa-redis-cluster

for port in "${ports[@]}"; do
  if port_open 127.0.0.1 "$port"; then continue; fi
  dir="$base/$port"
  mkdir -p "$dir"
  # A node that restarts after a machine reboot finds a stale nodes.conf: start it clean.
  rm -f "$dir/nodes.conf" "$dir/dump.rdb"
  log "starting Redis Cluster node on 127.0.0.1:$port"
  redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 5000 --save "" --appendonly no --daemonize yes --dir "$dir" \
    --logfile "$dir/redis.log"
done
for port in "${ports[@]}"; do wait_for_port 127.0.0.1 "$port" "Redis Cluster node" 30; done

cluster_ok() { redis-cli -p 7000 cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }

if ! cluster_ok; then
  known="$(redis-cli -p 7000 cluster info 2>/dev/null | sed -n 's/^cluster_known_nodes:\([0-9]*\).*/\1/p')"
  if [ "${known:-1}" -le 1 ]; then
    log "creating the Redis Cluster on ports ${ports[*]}"
    redis-cli --cluster create 127.0.0.1:7000 127.0.0.1:7001 127.0.0.1:7002 --cluster-replicas 0 --cluster-yes >/dev/null
  fi
  for _ in $(seq 1 150); do
    if cluster_ok; then break; fi
    sleep 0.2
  done
fi
if ! cluster_ok; then
  log "ERROR: the Redis Cluster on ports ${ports[*]} did not reach cluster_state:ok"
  exit 1
fi
log "Redis Cluster is up on 127.0.0.1:7000-7002"
