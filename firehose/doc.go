// Package firehose does Amazon Data Firehose's job over any
// shardlog.StreamAPI: a delivery stream reads a stream, buffers its records
// by size and interval, optionally transforms them with a function under
// Lambda's contract, compresses them, and delivers them as objects named
// as Firehose names its S3 objects, to a Destination — a directory (one
// folder per bucket) or anything that implements the interface.
//
// The stream is read through a consumer group (shardlog.RunWorker), and
// each shard's position is checkpointed only once the objects holding its
// records are delivered: delivery is at least once, nothing read is
// dropped by a crash, and duplicates happen only around one. A direct-put
// delivery stream (PutRecord, PutRecordBatch, with Firehose's limits)
// keeps the records it accepts in a stream of its own, so that on a
// durable account they outlive the process until they are delivered.
//
// A delivery that fails is retried with backoff for Config.RetryDuration;
// then the object goes to Config.Backup under the error output prefix, and
// if there is none, or it fails too, delivery goes on being retried: the
// shard waits rather than lose records.
package firehose
