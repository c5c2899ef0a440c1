// Package analytics computes windowed aggregations over streams — the job
// of Kinesis Data Analytics — with results exactly once by ID, on any
// shardlog.StreamAPI: an embedded stream, shardlogd, or Amazon Kinesis
// through the aws module.
//
// # Basics
//
// A Job reads its sources through consumer groups (shardlog.RunWorker:
// leases, parents before children, KPL aggregates unpacked), decodes each
// record into an event, keys it, and folds it into the windows of its key
// with an Aggregator: Count, Sum, Min, Max, Avg, Distinct, ApproxDistinct
// (HyperLogLog), TopK, Percentiles (DDSketch), or your own. Windows are
// Tumbling, Hopping or Session, in event time (Config.EventTime) or
// processing time. Results go to an Output: a callback (OutputFunc), a
// stream (StreamOutput) or a delivery stream (DeliveryOutput). Package
// streamsql compiles a small SQL to the same jobs.
//
// # Time
//
// In event time each shard's watermark is its latest event time less
// Config.MaxOutOfOrderness, and the job's is the least of its shards',
// leaving out shards idle for Config.IdleTimeout; a split's or merge's
// children start from their parents' watermark. A window fires once, when
// the watermark passes its end plus Config.AllowedLateness; an event that
// comes after every window it belongs to has fired goes to Config.Late.
// The watermark moves between batches of records, not within one. All
// time comes from Config.Clock, so tests on a manual clock are instant
// and deterministic.
//
// # Exactly once
//
// A job saves snapshots to a Store (DirStore, MemoryStore): its open
// windows, the position it has read each shard to, and the results fired
// but not yet emitted, all at once. A result is emitted only after a
// snapshot holds it, and a lease is checkpointed only to a snapshot's
// position. After a crash the job restores the last snapshot, emits its
// pending results again and reads on from its positions: no event is
// counted twice or lost, and a result emitted twice is the same result
// with the same ID (Result.ID), which an output that keeps IDs (Dedup)
// takes once.
//
// # Scaling out
//
// By default a job runs in one instance at a time, holding every shard of
// its sources: its keys may have events in every shard, so each key's
// windows live in one place. The instance holds the job's lease (in the
// groups' lease store); another instance started under the same name
// waits as a standby, and takes over from the last snapshot when the
// first stops, or stops renewing the lease for Config.FailoverTime.
//
// When a key follows the record's partition key (Config.ByPartitionKey),
// all of its events are in one shard at a time, and each shard's windows
// live with the shard: its consumer keeps them in a snapshot of its own,
// the job's instances share the shards as a consumer group's workers do,
// and a shard's state moves with its lease. When a shard splits or
// merges, its children take its open windows (each the keys whose hash
// keys fall in its range) and its watermark. A shard's watermark is then
// its own, so a shard without new records keeps its last windows open
// until it has some.
//
// # Caveats
//
// Snapshots hold the whole state (a shard's, with ByPartitionKey), so
// their cost grows with the open windows: while the job catches up,
// results gather for up to a second between snapshots, and snapshots are
// always at least twice as far apart as the last one took. The
// watermark moves between batches of records, so which events are late
// can depend on how records were batched; a result's content is fixed in
// a snapshot before it is first emitted, so it is the same however often
// it is emitted.
package analytics
