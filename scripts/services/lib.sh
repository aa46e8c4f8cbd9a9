# Helpers sourced by the service scripts. Every script here must be idempotent: safe to run twice,
# on a fresh machine or on one where the service already runs.

log() { echo "[services] $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_for_port HOST PORT NAME [TIMEOUT_S]
wait_for_port() {
  local host=$1 port=$2 name=$3 timeout=${4:-60} i
  for ((i = 0; i < timeout * 5; i++)); do
    if port_open "$host" "$port"; then log "$name is up on $host:$port"; return 0; fi
    sleep 0.2
  done
  log "ERROR: $name did not come up on $host:$port within ${timeout}s"
  return 1
}

# apt_install PACKAGE... : installs Debian packages that are missing (apt-get update once per run).
apt_install() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "${NOA_APT_UPDATED:-}" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    export NOA_APT_UPDATED=1
  fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# pg_cluster_create VERSION NAME PORT: creates a PostgreSQL cluster unless pg_lsclusters knows it.
# Leftovers of a dropped cluster (pg_dropcluster keeps files it did not write, e.g. conf.d) are
# removed first, so a half-dropped cluster is rebuilt instead of being mistaken for a live one.
pg_cluster_create() {
  local version=$1 name=$2 port=$3
  if pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1 == v && $2 == n { found = 1 } END { exit !found }'; then
    return 0
  fi
  log "creating cluster ${version}/${name} on port ${port}"
  rm -rf "/etc/postgresql/${version}/${name}" "/var/lib/postgresql/${version}/${name}"
  pg_createcluster "$version" "$name" -p "$port" >/dev/null
}
