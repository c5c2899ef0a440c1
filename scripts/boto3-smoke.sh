#!/usr/bin/env bash
# Smoke test with boto3 (Debian: apt-get install python3-boto3) against
# shardlogd: Firehose's delivery streams, direct put and from a stream.
set -euo pipefail
cd "$(dirname "$0")/.."

go build -o /tmp/shardlogd.boto3 ./cmd/shardlogd
out=$(mktemp)
buckets=$(mktemp -d)
/tmp/shardlogd.boto3 -addr 127.0.0.1:0 -drain 0 -log-level warn -buckets "$buckets" >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; rm -rf "$out" "$buckets"' EXIT
endpoint=""
for _ in $(seq 100); do
  endpoint=$(head -n 1 "$out")
  [ -n "$endpoint" ] && break
  sleep 0.1
done
[ -n "$endpoint" ] || { echo "shardlogd did not start"; exit 1; }
python3 scripts/boto3-smoke.py "$endpoint" "$buckets"
