#!/usr/bin/env bash
# Runs a command with the AWS emulators that the aws module's tests use
# listening on loopback: dynalite (DynamoDB, for the lease store) as
# DYNAMODB_ENDPOINT, and kinesalite (Kinesis, for the conformance suite
# against another implementation) as KINESALITE_ENDPOINT. Without them the
# tests skip. Needs node and npm; installs both into a cache directory
# (SHARDLOG_EMULATORS_DIR).
#
#   scripts/emulators.sh sh -c 'cd aws && go test ./...'
set -euo pipefail

dir=${SHARDLOG_EMULATORS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shardlog-emulators}
mkdir -p "$dir"
if [ ! -x "$dir/node_modules/.bin/dynalite" ] || [ ! -x "$dir/node_modules/.bin/kinesalite" ]; then
  (cd "$dir" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent dynalite@3 kinesalite@3) >/dev/null
fi

# A port the system is not using now (a fixed one may be taken by any
# socket: it lies in the range the system hands out).
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })'
}
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done' EXIT

# start NAME ARGS...: starts an emulator on a free port, tried again on
# another if it cannot have it, and prints its endpoint.
start() {
  local name=$1 port pid
  shift
  for _ in 1 2 3 4 5; do
    port=$(free_port)
    "$dir/node_modules/.bin/$name" --port "$port" "$@" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do
      curl -s -o /dev/null "http://127.0.0.1:$port" && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if curl -s -o /dev/null "http://127.0.0.1:$port"; then
      echo "$pid http://127.0.0.1:$port"
      return
    fi
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  done
  echo "$name did not start" >&2
  exit 1
}

read -r pid DYNAMODB_ENDPOINT < <(start dynalite --createTableMs 0 --deleteTableMs 0)
pids+=("$pid")
read -r pid KINESALITE_ENDPOINT < <(start kinesalite --createStreamMs 0 --deleteStreamMs 0 --updateStreamMs 0 --shardLimit 1000)
pids+=("$pid")
export DYNAMODB_ENDPOINT KINESALITE_ENDPOINT
"$@"
