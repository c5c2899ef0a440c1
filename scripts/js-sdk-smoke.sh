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

go build -o /tmp/shardlogd.js-smoke ./cmd/shardlogd
# Twice: with any credentials accepted, then with every request's SigV4
# signature checked (-iam; the smoke signs as test/test, an administrator).
iam=$(mktemp)
out=$(mktemp)
pid=""
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -f "$iam" "$out"' EXIT
echo '{"principals": [{"arn": "arn:aws:iam::000000000000:user/smoke", "roles": ["administrator"], "accessKeys": [{"id": "test", "secret": "test"}]}]}' >"$iam"
for flags in "" "-iam $iam"; do
  # shellcheck disable=SC2086 # flags is split on purpose
  /tmp/shardlogd.js-smoke -addr 127.0.0.1:0 -drain 0 -log-level warn $flags >"$out" &
  pid=$!
  endpoint=""
  for _ in $(seq 100); do # on a port the system picks: shardlogd prints it when ready
    endpoint=$(head -n 1 "$out")
    [ -n "$endpoint" ] && break
    sleep 0.1
  done
  [ -n "$endpoint" ] || { echo "shardlogd did not start"; exit 1; }
  ENDPOINT="$endpoint" timeout 60 node --no-warnings "$dir/smoke.mjs"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
done
