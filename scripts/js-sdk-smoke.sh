#!/usr/bin/env bash
# Smoke test with the AWS SDK for JavaScript v3 (@aws-sdk/client-kinesis from
# npm, default HTTP/2 handler) against shardlogd in cleartext. Needs node,
# npm and Go; installs the SDK into a cache directory (JS_SDK_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${JS_SDK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shardlog-js-sdk}
mkdir -p "$dir"
if [ ! -d "$dir/node_modules/@aws-sdk/client-kinesis" ]; then
  (cd "$dir" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent @aws-sdk/client-kinesis@3) >/dev/null
fi
cp scripts/js-sdk-smoke.mjs "$dir/smoke.mjs"

port=${PORT:-45672}
go build -o /tmp/shardlogd.js-smoke ./cmd/shardlogd
/tmp/shardlogd.js-smoke -addr "127.0.0.1:$port" -log-level warn >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$port" && break
  sleep 0.1
done
ENDPOINT="http://127.0.0.1:$port" timeout 60 node --no-warnings "$dir/smoke.mjs"
