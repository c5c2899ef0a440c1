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
port=${DYNALITE_PORT:-45700}
"$dir/node_modules/.bin/dynalite" --port "$port" --createTableMs 0 --deleteTableMs 0 >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port" && break
  sleep 0.1
done
DYNAMODB_ENDPOINT="http://127.0.0.1:$port" "$@"
