// Package aws runs code written against [shardlog.StreamAPI] on Amazon
// Kinesis Data Streams, through the AWS SDK for Go v2: the same producer
// and consumer code runs embedded (on a *shardlog.Stream) and on AWS (on a
// *Stream of this package), and moving is a change of constructor.
//
//	cfg, _ := config.LoadDefaultConfig(ctx)
//	s, err := aws.Open(ctx, kinesis.NewFromConfig(cfg), shardlog.StreamRef{StreamName: "orders"})
//	var api shardlog.StreamAPI = s
//
// It is a module of its own, so that shardlog's core keeps the design
// card's dependencies; the AWS SDK comes with this module only.
//
// Errors map back to shardlog's sentinels by their AWS exception name:
// errors.Is(err, shardlog.ErrProvisionedThroughputExceeded) holds on both.
// Sequence numbers round-trip: the ones Kinesis issues parse into
// shardlog.SequenceNumber as text, compare as big integers and name their
// shard.
//
// Retries are the SDK's: its standard retryer retries throttling
// (ProvisionedThroughputExceededException, LimitExceededException) and
// transient errors up to its RetryMaxAttempts (3 by default) with
// exponential backoff and jitter, before this package sees an error. Set
// RetryMaxAttempts (or a Retryer) on the kinesis.Client to change that;
// RetryMaxAttempts 1 hands every throttle to the caller, as a producer
// with its own backoff wants. PutBatch's per-record failures are not
// retried by the SDK: they come back in PutBatchOutput, as from PutRecords.
//
// Every call hands the client's HTTP client a request body whose only
// methods are Read and Close. The SDK closes a request's body once the
// response has come, after which the body's WriteTo reports io.EOF as an
// error; net/http's last read of a body it has sent goes through WriteTo,
// and on that error it closes the connection under the response. Against
// a near endpoint (shardlogd on loopback) the response can come first:
// a subscription died with "use of closed network connection", and other
// calls were retried although they had taken effect.
//
// Package firehose delivers to Amazon S3, or any S3-compatible store,
// through [S3Destination]; its delivery streams read a Kinesis stream
// through a *Stream of this package as they read an embedded one.
//
// Package autoscale scales a stream on Kinesis too: [Scalable] adds the
// shard loads it reads from CloudWatch (enhanced monitoring's shard-level
// IncomingBytes and IncomingRecords) to a *Stream, whose SplitShard and
// MergeShards call Kinesis.
//
// Consumer groups run on a *Stream too: shardlog.RunWorker(ctx, s, cfg)
// reads it with GetRecords or SubscribeToShard. [LeaseStore] keeps their
// leases and checkpoints in DynamoDB, in the Java KCL's lease-table schema,
// checkpoint sentinels and conditional updates, so that a Go group and a
// Java KCL application can share a table; a group takes it as
// WorkerConfig.Leases. Its tests need a DynamoDB emulator, and the
// conformance suite runs against kinesalite too: run them with
// scripts/emulators.sh (node and npm), or they skip.
//
// A Stream opened by StreamName names the stream by name in every call
// that takes one, which every Kinesis implementation accepts; one opened by
// StreamARN names it by ARN, which AWS accepts since 2022 and which a
// stream of another account needs.
package aws
