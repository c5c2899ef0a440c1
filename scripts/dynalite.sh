#!/usr/bin/env bash
# Runs a command with a DynamoDB emulator (dynalite, from npm) listening,
# and DYNAMODB_ENDPOINT naming it: the aws module's lease-store tests use
# it, and skip without it. Needs node and npm; installs dynalite into a
# cache directory (DYNALITE_DIR).
#
#   scripts/dynalite.sh sh -c 'cd aws && go test ./...'
set -euo pipefail

dir=${DYNALITE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shardlog-dynalite}
mkdir -p "$dir"
if [ ! -x "$dir/node_modules/.bin/dynalite" ]; then
  (cd "$dir" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent dynalite@3) >/dev/null
fi
# A port the system is not using now (a fixed one may be taken by any
# socket: it lies in the range the system hands out); tried again on
# another if dynalite cannot have it.
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })'
}
pid=
trap '[ -n "$pid" ] && { kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; }' EXIT
for _ in 1 2 3 4 5; do
  port=${DYNALITE_PORT:-$(free_port)}
  "$dir/node_modules/.bin/dynalite" --port "$port" --createTableMs 0 --deleteTableMs 0 >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port" && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  curl -s -o /dev/null "http://127.0.0.1:$port" && break
  kill $pid 2>/dev/null; wait $pid 2>/dev/null || true
  pid=
done
if [ -z "$pid" ]; then
  echo "dynalite did not start" >&2
  exit 1
fi
DYNAMODB_ENDPOINT="http://127.0.0.1:$port" "$@"
