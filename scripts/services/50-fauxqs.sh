#!/usr/bin/env bash
# SQS emulator for @noa/message-queue's SQS tests and benchmarks: fauxqs (npm), which needs Node >= 22.5.
# Both fauxqs and a Node 24 binary (the npm package node@24) are installed OUTSIDE the workspace:
# a `node` binary in the workspace's node_modules/.bin would shadow the project's Node 20.
# fauxqs's CLI listens on 0.0.0.0; the launcher below binds it to loopback only.
# Tests read SQS_ENDPOINT (default http://127.0.0.1:4566).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

prefix=${NOA_SQS_PREFIX:-/opt/noa-sqs}
port=${NOA_SQS_PORT:-4566}

if port_open 127.0.0.1 "$port"; then
  log "fauxqs (SQS) already listening on 127.0.0.1:$port"
  exit 0
fi

if [ ! -x "$prefix/node_modules/node/bin/node" ] || [ ! -f "$prefix/node_modules/fauxqs/package.json" ]; then
  log "installing node@24 and fauxqs@2 into $prefix"
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error node@24 fauxqs@2 >/dev/null
fi

cat >"$prefix/launch.mjs" <<'JS'
// Binds fauxqs to loopback: its startFauxqs() hard-codes host 0.0.0.0 in the listen call.
import net from 'node:net';
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args[0] && typeof args[0] === 'object' && args[0].host === '0.0.0.0') args[0] = { ...args[0], host: '127.0.0.1' };
  return listen.apply(this, args);
};
const { startFauxqs } = await import('fauxqs');
await startFauxqs({ port: Number(process.env.FAUXQS_PORT ?? 4566), host: '127.0.0.1', logger: false });
JS

log "starting fauxqs (SQS) on 127.0.0.1:$port"
mkdir -p /var/log/noa
# Own session, and no inherited descriptors: a CI runner reading this script's output must not wait
# for the emulator to exit.
(cd "$prefix" && FAUXQS_PORT=$port exec setsid "$prefix/node_modules/node/bin/node" launch.mjs) \
  >/var/log/noa/fauxqs.log 2>&1 </dev/null &
wait_for_port 127.0.0.1 "$port" fauxqs 60
