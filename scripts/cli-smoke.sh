#!/usr/bin/env bash
# Smoke test with the AWS CLI against shardlogd: the classic create-stream,
# put-record, get-shard-iterator, get-records round trip, plus a few more.
# Needs the AWS CLI (Debian: apt-get install awscli) and Go.
set -euo pipefail
cd "$(dirname "$0")/.."

go build -o /tmp/shardlogd.smoke ./cmd/shardlogd
out=$(mktemp)
pid=""
# start runs shardlogd on a port the system picks, and sets pid and the
# endpoint it prints when it is ready.
start() {
  /tmp/shardlogd.smoke -addr 127.0.0.1:0 -drain 0 -log-level warn "$@" >"$out" &
  pid=$!
  endpoint=""
  for _ in $(seq 100); do
    endpoint=$(head -n 1 "$out")
    [ -n "$endpoint" ] && break
    sleep 0.1
  done
  [ -n "$endpoint" ] || { echo "shardlogd did not start"; exit 1; }
}
buckets=$(mktemp -d)
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; fi; rm -rf "$out" "$buckets"' EXIT
start -buckets "$buckets"

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
k() { aws --endpoint-url "$endpoint" kinesis "$@"; }

k create-stream --stream-name myStream --shard-count 3
k describe-stream-summary --stream-name myStream --query 'StreamDescriptionSummary.OpenShardCount' | grep -qx 3
# CLI v1 takes --data as text, v2 as base64 unless told otherwise.
data_flag=()
aws --version 2>&1 | grep -q '^aws-cli/2' && data_flag=(--cli-binary-format raw-in-base64-out)
shard=$(k put-record --stream-name myStream --partition-key user-1 --data hello "${data_flag[@]}" --query ShardId --output text)
it=$(k get-shard-iterator --stream-name myStream --shard-id "$shard" --shard-iterator-type TRIM_HORIZON --query ShardIterator --output text)
got=$(k get-records --shard-iterator "$it" --query 'Records[0].Data' --output text)
[ "$(echo "$got" | base64 -d)" = hello ] || { echo "get-records returned $got"; exit 1; }
k list-shards --stream-name myStream --query 'length(Shards)' | grep -qx 3
k split-shard --stream-name myStream --shard-to-split shardId-000000000000 --new-starting-hash-key 1000
k list-shards --stream-name myStream --query 'length(Shards)' | grep -qx 5
# CloudWatch's metric reads, on the same port: the record put above counts.
cw() { aws --endpoint-url "$endpoint" cloudwatch "$@"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
now=$(date -u +%s)
span=(--start-time "$(iso $((now - 3600)))" --end-time "$(iso $((now + 120)))")
incoming=(--namespace AWS/Kinesis --metric-name IncomingRecords --dimensions Name=StreamName,Value=myStream)
sum=$(cw get-metric-statistics "${incoming[@]}" "${span[@]}" --period 60 --statistics Sum --query 'sum(Datapoints[].Sum)')
[ "$sum" = "1.0" ] || { echo "get-metric-statistics summed $sum"; exit 1; }
cw list-metrics --namespace AWS/Kinesis --metric-name IncomingRecords --query 'Metrics[0].Dimensions[0].Value' --output text | grep -qx myStream
cw get-metric-data "${span[@]}" --metric-data-queries '[{"Id":"m","MetricStat":{"Metric":{"Namespace":"AWS/Kinesis","MetricName":"IncomingRecords","Dimensions":[{"Name":"StreamName","Value":"myStream"}]},"Period":300,"Stat":"Sum"}}]' \
  --query 'sum(MetricDataResults[0].Values)' | grep -qx 1.0
answer=$(cw get-metric-statistics "${incoming[@]}" "${span[@]}" --period 90 --statistics Sum 2>&1) && { echo "a period of 90 s was accepted"; exit 1; }
echo "$answer" | grep -q InvalidParameterValue || { echo "get-metric-statistics with a period of 90 s: $answer"; exit 1; }
k add-tags-to-stream --stream-name myStream --tags team=core
k list-tags-for-stream --stream-name myStream --query 'Tags[0].Value' --output text | grep -qx core
# Firehose on the same port: a direct-put delivery stream delivers to a
# folder per bucket, and one reading myStream delivers what it takes.
fh() { aws --endpoint-url "$endpoint" firehose "$@"; }
s3=(--extended-s3-destination-configuration 'BucketARN=arn:aws:s3:::lake,RoleARN=arn:aws:iam::000000000000:role/r,Prefix=web/,BufferingHints={SizeInMBs=1,IntervalInSeconds=0}')
fh create-delivery-stream --delivery-stream-name web "${s3[@]}" --query DeliveryStreamARN --output text | grep -qx arn:aws:firehose:us-east-1:000000000000:deliverystream/web
fh put-record --delivery-stream-name web --record Data=firehose-hello "${data_flag[@]}" >/dev/null
fh describe-delivery-stream --delivery-stream-name web --query DeliveryStreamDescription.DeliveryStreamStatus --output text | grep -qx ACTIVE
fh list-delivery-streams --query 'DeliveryStreamNames[0]' --output text | grep -qx web
for _ in $(seq 100); do grep -rqs firehose-hello "$buckets/lake/web" && break; sleep 0.1; done
grep -rqs firehose-hello "$buckets/lake/web" || { echo "the delivery stream delivered nothing to $buckets/lake/web"; exit 1; }
# Firehose's metrics through CloudWatch's API, as for Kinesis.
fhsum=$(cw get-metric-statistics --namespace AWS/Firehose --metric-name IncomingRecords --dimensions Name=DeliveryStreamName,Value=web \
  "${span[@]}" --period 60 --statistics Sum --query 'sum(Datapoints[].Sum)')
[ "$fhsum" = "1.0" ] || { echo "get-metric-statistics AWS/Firehose IncomingRecords summed $fhsum"; exit 1; }
cw list-metrics --namespace AWS/Firehose --metric-name DeliveryToS3.Records --query 'Metrics[0].Dimensions[0].Value' --output text | grep -qx web
answer=$(fh create-delivery-stream --delivery-stream-name 'bad name' "${s3[@]}" 2>&1) && { echo "a bad name was accepted"; exit 1; }
echo "$answer" | grep -q "ValidationException.*deliveryStreamName" || { echo "create-delivery-stream with a bad name: $answer"; exit 1; }
fh delete-delivery-stream --delivery-stream-name web
answer=$(fh describe-delivery-stream --delivery-stream-name web 2>&1) && { echo "a deleted delivery stream was described"; exit 1; }
echo "$answer" | grep -q ResourceNotFoundException || { echo "describe-delivery-stream after delete: $answer"; exit 1; }
k delete-stream --stream-name myStream
k list-streams --query 'length(StreamNames)' | grep -qx 0

# Again with signatures and policies checked (-iam): the CLI's SigV4 is
# accepted, a producer may write but not delete, a wrong secret is refused.
kill "$pid"
wait "$pid" 2>/dev/null || true
iam=$(mktemp)
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$iam" "$out" "$buckets"' EXIT
cat >"$iam" <<'JSON'
{"principals": [
  {"arn": "arn:aws:iam::000000000000:user/admin", "roles": ["administrator"], "accessKeys": [{"id": "AKIDADMIN", "secret": "admin-secret"}]},
  {"arn": "arn:aws:iam::000000000000:user/writer", "roles": ["producer"], "accessKeys": [{"id": "AKIDWRITER", "secret": "writer-secret"}]},
  {"arn": "arn:aws:iam::000000000000:user/watcher", "accessKeys": [{"id": "AKIDWATCHER", "secret": "watcher-secret"}],
   "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "cloudwatch:Get*", "Resource": "*"}]}]},
  {"arn": "arn:aws:iam::000000000000:user/deliverer", "accessKeys": [{"id": "AKIDDELIVERER", "secret": "deliverer-secret"}],
   "policies": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "firehose:*", "Resource": "*"}]}]}]}
JSON
start -iam "$iam"
as() { AWS_ACCESS_KEY_ID=$1 AWS_SECRET_ACCESS_KEY=$2 aws --endpoint-url "$endpoint" kinesis "${@:3}"; }
as AKIDADMIN admin-secret create-stream --stream-name signed --shard-count 1
as AKIDWRITER writer-secret put-record --stream-name signed --partition-key k --data hello "${data_flag[@]}" >/dev/null
answer=$(as AKIDWRITER writer-secret delete-stream --stream-name signed 2>&1) && { echo "a producer deleted a stream"; exit 1; }
echo "$answer" | grep -q AccessDeniedException || { echo "delete-stream as a producer: $answer"; exit 1; }
answer=$(as AKIDWRITER wrong list-shards --stream-name signed 2>&1) && { echo "a wrong secret was accepted"; exit 1; }
echo "$answer" | grep -q InvalidSignatureException || { echo "list-shards with a wrong secret: $answer"; exit 1; }
watch() { AWS_ACCESS_KEY_ID=$1 AWS_SECRET_ACCESS_KEY=$2 aws --endpoint-url "$endpoint" cloudwatch get-metric-statistics "${@:3}" \
  --namespace AWS/Kinesis --metric-name IncomingRecords --dimensions Name=StreamName,Value=signed "${span[@]}" --period 60 --statistics Sum; }
watch AKIDWATCHER watcher-secret --query 'sum(Datapoints[].Sum)' | grep -qx 1.0
answer=$(watch AKIDWRITER writer-secret 2>&1) && { echo "a producer read CloudWatch"; exit 1; }
echo "$answer" | grep -q AccessDenied || { echo "get-metric-statistics as a producer: $answer"; exit 1; }
ash() { AWS_ACCESS_KEY_ID=$1 AWS_SECRET_ACCESS_KEY=$2 aws --endpoint-url "$endpoint" firehose "${@:3}"; }
ash AKIDDELIVERER deliverer-secret create-delivery-stream --delivery-stream-name signed "${s3[@]}" >/dev/null
answer=$(ash AKIDWRITER writer-secret delete-delivery-stream --delivery-stream-name signed 2>&1) && { echo "a Kinesis producer deleted a delivery stream"; exit 1; }
echo "$answer" | grep -q AccessDeniedException || { echo "delete-delivery-stream as a Kinesis producer: $answer"; exit 1; }
ash AKIDDELIVERER deliverer-secret delete-delivery-stream --delivery-stream-name signed
as AKIDADMIN admin-secret delete-stream --stream-name signed
echo "AWS CLI smoke test passed"
