// Package shardlog is Amazon Kinesis Data Streams embedded in a Go process:
// named streams of records, split into shards by the hash of a partition key,
// with Kinesis's formats, limits, errors and messages, on a clock the caller
// can control.
//
// Use it to embed a bounded, sharded event log in a service, to test Kinesis
// code without AWS, or (through its HTTP API) as a local Kinesis endpoint for
// unmodified AWS clients.
//
// # Quick start
//
//	acct, _ := shardlog.NewAccount()
//	defer acct.Close()
//	s, _ := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 4})
//	res, _ := s.Put(ctx, shardlog.PutInput{PartitionKey: "customer-7", Data: []byte("hello")})
//	for rec, err := range s.Records(ctx, res.ShardID, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
//		...
//	}
//
// An [Account] holds streams by name; [Stream] methods are the Kinesis
// stream operations (Put is PutRecord, PutBatch is PutRecords, and so on).
// [NewStream] makes a single stream with an account of its own.
//
// # Moving to Amazon Kinesis
//
// Application code written against [StreamAPI] — what producers and
// consumers need of a stream — runs on a *Stream and, unchanged, on
// Amazon Kinesis through the module github.com/shardlog/shardlog/aws,
// which implements it over the AWS SDK; package streamtest holds the
// interface's conformance suite.
//
// # Reading
//
// [Stream.GetShardIterator] and [Account.GetRecords] read as Kinesis
// consumers do: opaque iterators, valid five minutes, that encode a position
// and are sealed with a per-account key. On top of them, [Stream.Records]
// walks a shard up to its newest record and [Stream.Tail] keeps waiting for
// new ones; both are iter.Seq2 sequences. Records share the shard's storage:
// their PartitionKey and Data must not be modified. A reader in a hot loop
// can keep one result and call [Account.GetRecordsInto] (and a producer
// [Stream.PutBatchInto]) so that no call allocates per record.
//
// # Resharding and lineage
//
// Closing a shard copies nothing: it stays readable, and at its end
// GetRecords returns no next iterator and the ChildShards. Every sequence
// number of a child exceeds every number of its parents. [Stream.ReadAll]
// and [Stream.TailAll] read a whole stream the way the Kinesis Client
// Library does, each shard to its end before any of its children, so the
// records of a partition key come out in order across reshards.
// [Stream.ReadAllFrom] and [Stream.TailAllFrom] resume such a read from a
// saved [Position]. Records that retention or a size bound removed before
// an in-process reader reached them are reported to it as a
// [*LostRecordsError], never skipped silently.
//
// # Consumer groups
//
// [RunWorker] runs a worker of a consumer group, as the Kinesis
// Client Library does: the workers of an application share the shards
// through leases kept in a [LeaseStore] (the account's by default, durable
// with it), and a [RecordProcessor] per shard — or one function, with
// [ProcessFunc] — processes batches in order, parents before children, and
// checkpoints; after a failover or a restart, processing resumes after the
// last checkpoint. Leases change hands gracefully: the owner's processor
// can checkpoint before another worker takes over. [DescribeGroup] shows
// who holds what and how far behind it is. [RunWorker] runs the same group
// on any [StreamAPI] — Amazon Kinesis through the aws module, whose
// LeaseStore keeps the leases in DynamoDB in the KCL's schema.
//
// # Access control
//
// [WithAccessControl] makes the account decide calls as IAM does: a call
// carrying a [Caller] ([WithCaller]; kinesisapi makes one from each
// request's SigV4 signature) is allowed only as far as the principal's
// policies ([Account.PutPrincipal]) and the resource's policy
// ([Account.PutResourcePolicy]) allow, and a denied call fails with
// [ErrAccessDenied] in AWS's words before it touches anything. With a
// [KeyRing] ([WithKeyRing]), StartStreamEncryption encrypts the records put
// from then on. docs/security.md has the details.
//
// # An embedded log
//
// [EmbeddedLog] sets an account up as a service's own event log: no
// throughput limits, and a retention of any length. Add [WithSizeBound] to
// cap it and [WithDir] to keep it.
//
// # Testing against failures
//
// [Account.InjectFault] makes chosen calls fail with a chosen AWS error,
// fails chosen records of a PutRecords, or makes calls wait on the
// account's clock, in process and through the HTTP API alike.
//
// # Enhanced fan-out
//
// [Account.SubscribeToShard] returns a [Subscription] whose Events channel
// delivers batches of records as they are written. A subscription is a
// cursor over the shard's storage and one goroutine: a slow receiver falls
// behind without slowing producers or other subscribers, and nothing is
// buffered on its behalf. Delivering an event allocates nothing: an event's
// Records slice is reused, and is valid until the next receive.
//
// # Metrics
//
// Every stream publishes the metrics Kinesis publishes to CloudWatch
// (IncomingBytes, PutRecords.ThrottledRecords,
// GetRecords.IteratorAgeMilliseconds, SubscribeToShardEvent.MillisBehindLatest
// per consumer, the shard-level metrics that enhanced monitoring turns on,
// …). [Account.GetMetricStatistics] reads them in one-minute buckets on the
// account clock, so a test on a [ManualClock] can assert them exactly;
// [Account.GetMetricData] reads many series at once, [Account.ListMetrics]
// names them, and [Account.MetricTotals] gives running totals for
// exporters. The hot paths
// tally them where they already hold a lock, without allocating.
//
// # Time and clocks
//
// Every time rule — stream status delays, iterator and NextToken expiry,
// throughput limits — is a function of the state and [Clock.Now]. Pass a
// [ManualClock] with [WithClock] and tests move time with
// [ManualClock.Advance]: five minutes of iterator life or a day of retention
// pass in a microsecond. Nothing runs in the background to keep time.
//
// # Concurrency
//
// Accounts and streams are safe for concurrent use. Producers on different
// shards share no lock; a reader of records already stored takes no lock
// that producers hold, because stored bytes never change, and only a
// reader that has caught up takes the shard's lock, to wait. Waiting
// readers are woken by appends, never by polling. [Account.Close] wakes every waiter, and afterwards every call
// returns [ErrClosed].
//
// # Durability
//
// By default an account lives in memory and is gone when the process ends.
// [WithDir] keeps it in a directory instead: everything Kinesis keeps
// survives Close, a crash of the process and, under the default
// [SyncAlways], a power loss; [WithSync] trades durability for speed
// (SyncEvery, SyncNone), and every policy loses nothing acknowledged on a
// process crash. Damage to the files is reported by [Account.Recovery] and
// never returned as data; a disk that fails makes calls fail with
// InternalFailure, and nothing acknowledged before is lost. The heap holds
// about 25 bytes per record, whatever the records' size. docs/durability.md
// in the repository says what each policy can lose, how damage is found and
// what a shard costs; FORMAT.md describes the files.
//
// # Errors
//
// Kinesis's failures are *[Error] values whose Code is the AWS exception
// name and whose Message follows AWS's wording. Match them with errors.Is
// against the sentinels ([ErrResourceNotFound],
// [ErrProvisionedThroughputExceeded], …). A few are shardlog's own, not
// Kinesis's: [ErrClosed] after Close, [ErrNotOwner] from closing a stream
// an Account owns, [ErrWorkerIDInUse] in consumer groups,
// *[LostRecordsError] when a size bound dropped records a reader had not
// read, *[DamagedRecordsError] for records a damaged file lost.
// PutBatch reports per-record failures in its result, as PutRecords does.
//
// # Differences from Amazon Kinesis
//
// Emulated exactly: names and formats (shard IDs, ARNs, 56-digit sequence
// numbers that compare as big integers and rise across reshards), the
// CreateStream hash-range split, MD5 routing, record and batch size limits,
// PutRecords partial failure, the five iterator types and their argument
// rules, iterator expiry, GetRecords's 10 000-record and 10 MiB caps,
// per-shard write (1 MiB/s, 1000 records/s) and read (5 calls/s, 2 MiB/s,
// the 5-second lockout after a 10 MiB response) limits, the control-plane
// call rates (CreateStream 5/s per account, GetShardIterator 5/s per shard
// and so on, as the API documents them), ListShards filters and NextToken
// expiry, and the error names and messages listed in errors.go.
//
// Approximated: sequence numbers have AWS's shape (56 decimal digits,
// rising within a shard and from parents to children) but not its layout.
// AWS's encodes the shard's creation time, a per-shard counter and the
// arrival second in hexadecimal fields; shardlog's encodes the stream's
// incarnation, the shard index and a per-shard counter in decimal ones,
// which make comparing and parsing cheap, need no wall clock (a manual
// clock may stand still or jump) and are what the durable store records
// (FORMAT.md). Nothing a client can do depends on the layout except
// copying a number from AWS into SequenceNumberForOrdering: such a number
// is accepted wherever Kinesis would accept it (and refused where Kinesis
// refuses it), and orders nothing, since it cannot be compared with this
// stream's numbers. A partition key's length is counted in UTF-16 code
// units, as AWS's Java service does; ApproximateArrivalTimestamp never
// goes backwards within a shard; state changes take the configured [Delays] (zero by default) rather than
// seconds.
//
// Beyond Kinesis, opt-in: a manual clock; [WithoutLimits] for embedded use;
// [WithDir] and [WithSync] for a durable account (see Durability; records
// that a size bound dropped may reappear after a crash if their file was
// not deleted yet, until the bound drops them again; a manual clock set
// more than about 4 400 years from 1970 gives arrival times clamped there);
// [WithSizeBound] and [WithAccountSizeBound], which cap a stream's (or all
// streams') bytes or records by dropping the oldest records first, so an
// embedded log or a server stays bounded under any write rate;
// [WithRetention] for the period new streams start with;
// [XXHash] routing, faster than MD5 but with placements that differ from AWS;
// in-process Records and Tail iterators, which do not count against
// GetRecords limits and report lost records; [EmbeddedLog], whose
// retention may be shorter than 24 hours (reported as whole hours, at least
// one); consumer groups in process ([RunWorker]), whose leases
// follow the KCL's rules but live in the account or a [LeaseStore] of one's
// own rather than DynamoDB (the aws module's keeps them there);
// [Account.InjectFault].
//
// Resharding: SplitShard, MergeShards and UpdateShardCount follow AWS's
// rules (strict split bounds, adjacency in either order, 2x up and half
// down, 10000 shards, 10 updates in a rolling 24 hours). UpdateShardCount
// reaches an even split through real splits and merges, so every shard has
// at most two parents and intermediate shards appear, closed, as on AWS.
// The exception for a target outside 2x/half is LimitExceededException (AWS
// documents the limits but not the exception). The account's shard limit is
// one atomic reservation, so concurrent reshards and creates of different
// streams never exceed it together; a deleted stream's shards stop counting
// at once. ON_DEMAND streams are limited to 50 per account.
//
// Retention: a record is gone once it is older than the stream's retention
// period (24 hours by default, 24 to 8760 with Increase/
// DecreaseStreamRetentionPeriod): TRIM_HORIZON, AT_TIMESTAMP and sequence
// numbers that point into expired data start at the oldest live record, and
// a closed shard disappears once its newest record has expired. Expired
// memory is released in whole chunks as shards are written and read, by
// [Account.ApplyRetention], and by the optional janitor ([WithJanitor]).
//
// Enhanced fan-out: RegisterStreamConsumer and the rest follow AWS's rules
// (20 consumers, 5 CREATING, ARNs with the creation time). A subscription
// lasts five minutes on the account's clock; the same consumer may
// subscribe to the same shard again only five seconds after its last call,
// and then takes the subscription over. Delivery is limited to 2 MiB/s per
// consumer and shard by waiting, never by dropping. Idle subscriptions send
// an empty event every heartbeat ([WithHeartbeat], 5 seconds by default;
// AWS does not document its interval). At the end of a closed shard the last
// event has no ContinuationSequenceNumber and lists the ChildShards.
//
// Tags, encryption (StartStreamEncryption), enhanced monitoring and the
// stream mode (UpdateStreamMode) are kept and reported; records are
// encrypted only with a key ring (WithKeyRing). An ON_DEMAND stream
// refuses manual resharding and scales by itself as AWS documents: every
// minute of the account's clock in which it is written, each shard that
// took more than half its write limit splits in two, so that the stream
// takes twice its peak.
//
// The wire protocol is in package kinesisapi: an http.Handler for AWS
// SDKs, and the shardlogd command.
package shardlog
