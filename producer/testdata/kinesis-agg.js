// Runs the aws-kinesis-agg package from npm for producer's tests.
//   node kinesis-agg.js deagg < kinesis records (JSON lines) > user records (JSON)
//   node kinesis-agg.js agg   < user records (JSON)          > aggregates (JSON)
const agg = require('aws-kinesis-agg');
const input = require('fs').readFileSync(0, 'utf8');

if (process.argv[2] === 'deagg') {
  const out = [];
  for (const line of input.split('\n').filter(Boolean)) {
    agg.deaggregateSync(JSON.parse(line), true, (err, users) => {
      if (err) { throw err; }
      out.push(...users.map(u => ({ partitionKey: u.partitionKey, explicitPartitionKey: u.explicitPartitionKey || '',
        sequenceNumber: String(u.sequenceNumber), subSequenceNumber: u.subSequenceNumber, data: u.data })));
    });
  }
  process.stdout.write(JSON.stringify(out));
} else {
  const records = JSON.parse(input).map(r => ({ partitionKey: r.partitionKey, explicitHashKey: r.explicitHashKey || undefined,
    data: Buffer.from(r.data, 'base64') }));
  const out = [];
  agg.aggregate(records, (encoded, done) => {
    out.push({ partitionKey: encoded.partitionKey, explicitHashKey: encoded.explicitHashKey || '',
      data: Buffer.from(encoded.data).toString('base64') });
    done();
  }, () => process.stdout.write(JSON.stringify(out)), (err) => { throw err; });
}
