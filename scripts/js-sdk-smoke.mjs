// Smoke test with the AWS SDK for JavaScript v3 and its default request
// handler (HTTP/2) against shardlogd: stream lifecycle, put, read, and a
// SubscribeToShard event stream. Run by scripts/js-sdk-smoke.sh.
import {
  KinesisClient, CreateStreamCommand, PutRecordCommand, PutRecordsCommand, ListShardsCommand,
  GetShardIteratorCommand, GetRecordsCommand, RegisterStreamConsumerCommand,
  SubscribeToShardCommand, DeleteStreamCommand, DescribeStreamSummaryCommand,
} from "@aws-sdk/client-kinesis";

const endpoint = process.env.ENDPOINT;
const client = new KinesisClient({
  endpoint, region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
const fail = (msg) => { console.error("js-sdk smoke:", msg); process.exit(1); };
const text = (b) => new TextDecoder().decode(b);

await client.send(new CreateStreamCommand({ StreamName: "js", ShardCount: 2 }));
const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: "js" }));
const arn = summary.StreamDescriptionSummary.StreamARN;
const put = await client.send(new PutRecordCommand({ StreamName: "js", PartitionKey: "k", Data: new TextEncoder().encode("hello") }));
const batch = await client.send(new PutRecordsCommand({ StreamName: "js",
  Records: [1, 2, 3].map((i) => ({ PartitionKey: "k", Data: new TextEncoder().encode("r" + i) })) }));
if (batch.FailedRecordCount !== 0) fail("PutRecords failed records");
const shards = await client.send(new ListShardsCommand({ StreamName: "js" }));
if (shards.Shards.length !== 2) fail("expected 2 shards, got " + shards.Shards.length);
const it = await client.send(new GetShardIteratorCommand({ StreamName: "js", ShardId: put.ShardId, ShardIteratorType: "TRIM_HORIZON" }));
const got = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
const read = got.Records.map((r) => text(r.Data)).join(",");
if (read !== "hello,r1,r2,r3") fail("GetRecords read " + read);

const reg = await client.send(new RegisterStreamConsumerCommand({ StreamARN: arn, ConsumerName: "js-app" }));
const sub = await client.send(new SubscribeToShardCommand({ ConsumerARN: reg.Consumer.ConsumerARN, ShardId: put.ShardId,
  StartingPosition: { Type: "TRIM_HORIZON" } }));
const seen = [];
for await (const ev of sub.EventStream) {
  if (!ev.SubscribeToShardEvent) fail("unexpected event " + JSON.stringify(ev));
  for (const r of ev.SubscribeToShardEvent.Records) seen.push(text(r.Data));
  if (seen.length >= 4) break;
}
if (seen.join(",") !== "hello,r1,r2,r3") fail("SubscribeToShard read " + seen.join(","));

let code = "";
try { await client.send(new GetShardIteratorCommand({ StreamName: "nope", ShardId: "shardId-000000000000", ShardIteratorType: "LATEST" })); }
catch (e) { code = e.name; }
if (code !== "ResourceNotFoundException") fail("missing stream gave " + code);
await client.send(new DeleteStreamCommand({ StreamName: "js", EnforceConsumerDeletion: true }));
client.destroy();
console.log("JavaScript SDK v3 smoke test passed (HTTP/2, default handler)");
