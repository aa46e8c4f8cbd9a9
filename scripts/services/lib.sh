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
