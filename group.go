package shardlog

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"time"
)

// WorkerConfig configures a worker of a consumer group (see [RunWorker]).
type WorkerConfig struct {
	// Application names the group: workers of one application on one
	// stream share its shards. 1 to 128 of a-z, A-Z, 0-9, _ . and -.
	Application string
	// WorkerID names this worker among the group's, in every process; it
	// must be unique (a worker that finds another using its ID stops with
	// ErrWorkerIDInUse). A worker restarted under its old ID takes back
	// every lease that names it. Default: the host name, the process ID
	// and a random part.
	WorkerID string
	// NewProcessor returns the processor of a shard this worker took.
	// Required.
	NewProcessor func(shardID string) RecordProcessor
	// InitialPosition is where a group that has no leases yet starts:
	// TRIM_HORIZON (the default), LATEST or AT_TIMESTAMP. Shards born
	// later are read from their start.
	InitialPosition StartingPosition
	// FailoverTime is how long a lease may go without renewal before
	// another worker takes it over. Leases are renewed three times as
	// often. Default: 10 seconds, as the Kinesis Client Library.
	FailoverTime time.Duration
	// MaxRecords caps a batch given to ProcessRecords (1 to 10 000;
	// default 10 000). A batch is also at most 10 MiB.
	MaxRecords int
	// EnhancedFanOut reads with SubscribeToShard through a consumer
	// registered under the application's name (registered if need be), as
	// the Kinesis Client Library does by default, instead of polling with
	// GetRecords-like reads that count against the shards' read limits.
	EnhancedFanOut bool
	// Deaggregate unpacks records aggregated by the Kinesis Producer
	// Library into ProcessRecordsInput.UserRecords, dropping those whose
	// hash key belongs to another shard, as the Kinesis Client Library
	// does.
	Deaggregate bool
	// Leases keeps the group's leases; default: the account's
	// ([Account.LeaseStore]), durable with a durable account. Required on
	// a StreamAPI other than *Stream (see RunWorker).
	Leases LeaseStore
	// IdleInterval, if not 0, has ProcessRecords called with no records
	// (and MillisBehindLatest 0) whenever a shard has had none for that
	// long, as the KCL's callProcessRecordsEvenForEmptyRecordList: for
	// checkpoints on a timer, or to see that the group has caught up. On a
	// StreamAPI other than *Stream it is checked at every poll.
	IdleInterval time.Duration

	// The fields below matter only on a StreamAPI other than *Stream.

	// Clock times lease renewals, failover and polling; default: the
	// system clock. (A *Stream's group uses its account's clock.)
	Clock Clock
	// Logger receives the worker's warnings; default: none. (A *Stream's
	// group uses its account's logger.)
	Logger *slog.Logger
	// PollInterval is how long a shard consumer that has caught up waits
	// before its next GetRecords, as the Kinesis Client Library's
	// idleTimeBetweenReadsInMillis; default: 1 second. (A *Stream's group
	// waits for records without polling.)
	PollInterval time.Duration
}

// RecordProcessor processes the records of one shard for a consumer group,
// as the Kinesis Client Library's ShardRecordProcessor. A worker calls the
// methods of one processor from one goroutine, in this order: Initialize,
// then ProcessRecords for each batch, then one of LeaseLost, ShardEnded and
// ShutdownRequested.
//
// Each call gets a context that is done once the lease is lost, or the
// worker stops without a graceful shutdown: a processor that calls out
// passes it on. A method that returns an error is called again with the
// same input after a second (on the group's clock), until it returns nil
// or the lease is lost or the worker stops: so a batch is never skipped
// because its processing failed (return nil to skip it). ShutdownRequested
// is not called again; its error is logged.
type RecordProcessor interface {
	// Initialize is called before the first batch, with the checkpoint the
	// shard resumes after.
	Initialize(ctx context.Context, in InitializeInput) error
	// ProcessRecords is called with each batch, in order. Delivery is at
	// least once: after a failover or a restart, processing resumes after
	// the last checkpoint. With WorkerConfig.IdleInterval, it is also
	// called with no records when the shard has had none for that long.
	ProcessRecords(ctx context.Context, in ProcessRecordsInput) error
	// LeaseLost is called when another worker took the shard: it can no
	// longer checkpoint.
	LeaseLost(ctx context.Context, in LeaseLostInput)
	// ShardEnded is called when a closed shard has been processed to its
	// end. The processor must checkpoint (Checkpointer.Checkpoint): only
	// then do the shard's children start.
	ShardEnded(ctx context.Context, in ShardEndedInput) error
	// ShutdownRequested is called when the worker stops, or hands the
	// lease to another worker to balance the group; the processor may
	// checkpoint.
	ShutdownRequested(ctx context.Context, in ShutdownRequestedInput) error
}

// ProcessFunc makes a WorkerConfig.NewProcessor of one function, for the
// common case: process is called with each batch and checkpoints it by
// returning nil (an error has the batch delivered again after a second);
// a shard's end is checkpointed, and nothing else is needed.
func ProcessFunc(process func(ctx context.Context, in ProcessRecordsInput) error) func(shardID string) RecordProcessor {
	return func(string) RecordProcessor { return funcProcessor(process) }
}

// funcProcessor is the RecordProcessor of ProcessFunc.
type funcProcessor func(ctx context.Context, in ProcessRecordsInput) error

func (funcProcessor) Initialize(context.Context, InitializeInput) error { return nil }

func (f funcProcessor) ProcessRecords(ctx context.Context, in ProcessRecordsInput) error {
	if err := f(ctx, in); err != nil {
		return err
	}
	return in.Checkpointer.Checkpoint(ctx)
}

func (funcProcessor) LeaseLost(context.Context, LeaseLostInput) {}

func (funcProcessor) ShardEnded(ctx context.Context, in ShardEndedInput) error {
	return in.Checkpointer.Checkpoint(ctx)
}

func (funcProcessor) ShutdownRequested(context.Context, ShutdownRequestedInput) error { return nil }

// InitializeInput is the argument of RecordProcessor.Initialize.
type InitializeInput struct {
	ShardID string
	// Checkpoint is the sequence number processing resumes after: the
	// shard's StartingSequenceNumber if it has not been processed yet.
	Checkpoint SequenceNumber
}

// ProcessRecordsInput is the argument of RecordProcessor.ProcessRecords.
type ProcessRecordsInput struct {
	// Records are the batch, in order. The slice is reused for the next
	// batch; the records themselves may be kept.
	Records []Record
	// UserRecords, with WorkerConfig.Deaggregate, are the user records of
	// Records (see UserRecord), also reused for the next batch.
	UserRecords []UserRecord
	// Lost, if not nil, reports records that retention or a size bound
	// removed before they were read, just before Records.
	Lost *LostRecordsError
	// Damaged, if not nil, reports records of a durable account that
	// cannot be read back (see DamagedRecordsError), after Lost and before
	// Records: the group moves past them.
	Damaged            *DamagedRecordsError
	MillisBehindLatest int64
	Checkpointer       *Checkpointer
}

// LeaseLostInput is the argument of RecordProcessor.LeaseLost.
type LeaseLostInput struct{}

// ShardEndedInput is the argument of RecordProcessor.ShardEnded.
type ShardEndedInput struct {
	Checkpointer *Checkpointer
}

// ShutdownRequestedInput is the argument of RecordProcessor.ShutdownRequested.
type ShutdownRequestedInput struct {
	Checkpointer *Checkpointer
}

// ErrLeaseLost is returned by a checkpoint of a shard whose lease the worker
// no longer holds.
var ErrLeaseLost = errors.New("shardlog: the worker no longer holds the lease")

// Checkpointer records how far a processor has processed its shard.
// Checkpoints are written to the group's LeaseStore at once; with a
// durable account, under SyncAlways, they are durable when the call
// returns.
type Checkpointer struct {
	w      *worker
	h      *heldLease
	last   SequenceNumber // the last record delivered; zero before any
	end    bool           // the shard's end was reached...
	endSeq SequenceNumber // ...and this is its checkpoint
	users  []UserRecord   // the batch's user records (Deaggregate)
}

// Checkpoint records every record delivered so far as processed; in
// ShardEnded, the whole shard.
func (c *Checkpointer) Checkpoint(ctx context.Context) error {
	if c.end {
		return c.w.checkpoint(ctx, c.h, c.endSeq, true)
	}
	if c.last.IsZero() {
		return nil // nothing delivered yet
	}
	return c.w.checkpoint(ctx, c.h, c.last, false)
}

// CheckpointUserRecord records the user records up to u, one delivered
// already, as processed: a checkpoint inside a KPL aggregate, after which
// processing resumes with the aggregate's next user record. (A checkpoint
// at an aggregate's first user record is written as one before the
// aggregate — on a StreamAPI other than *Stream, whose sequence numbers
// have no predecessor to name, as one at the batch's user record before
// it, or not at all for the batch's first: that user record may then come
// again.)
//
// Errors: as CheckpointAt.
func (c *Checkpointer) CheckpointUserRecord(ctx context.Context, u UserRecord) error {
	if err := c.check(u.SequenceNumber); err != nil {
		return err
	}
	// The batch is in (sequence, sub-sequence) order: find u.
	i, found := slices.BinarySearchFunc(c.users, u, func(v, u UserRecord) int {
		if d := v.SequenceNumber.Compare(u.SequenceNumber); d != 0 {
			return d
		}
		return cmp.Compare(v.SubSequenceNumber, u.SubSequenceNumber)
	})
	next := i
	if found {
		next++
	}
	lastOfAggregate := next == len(c.users) || c.users[next].SequenceNumber != u.SequenceNumber
	sub, seq := int64(0), u.SequenceNumber
	if u.Aggregated && !lastOfAggregate {
		if sub = u.SubSequenceNumber; sub == 0 {
			switch {
			case seq.text == "":
				seq.n.Counter-- // before the aggregate
			case i == 0:
				return nil
			default:
				return c.CheckpointUserRecord(ctx, c.users[i-1])
			}
		}
	}
	return c.w.checkpointSub(ctx, c.h, seq, sub, false)
}

// check reports whether seq is a number of this shard delivered already.
func (c *Checkpointer) check(seq SequenceNumber) error {
	ok := !c.last.IsZero() && seq.Compare(c.last) <= 0
	if seq.text == "" {
		// Ours: of the stream and shard of the last record delivered.
		ok = ok && c.last.text == "" && seq.n.Stream == c.last.n.Stream && seq.n.Shard == c.last.n.Shard
	} else if id := seq.ShardID(); id != "" {
		ok = ok && id == c.h.key // Kinesis's name their shard, if their layout is known
	}
	if !ok {
		return newError(ErrInvalidArgument, "Sequence number %s is not one of shard %s delivered to this processor.", seq, c.h.key)
	}
	return nil
}

// CheckpointAt records the records up to seq, one delivered already, as
// processed.
//
// Errors: ErrInvalidArgument for a number of another shard or one not
// delivered yet, ErrLeaseLost once the lease is lost.
func (c *Checkpointer) CheckpointAt(ctx context.Context, seq SequenceNumber) error {
	if err := c.check(seq); err != nil {
		return err
	}
	return c.w.checkpoint(ctx, c.h, seq, false)
}

// runWorker is RunWorker on an embedded stream: the leases in the
// account's own lease store unless cfg names another, reads handed on
// without a copy.
func (s *Stream) runWorker(ctx context.Context, cfg WorkerConfig) error {
	if _, err := s.enter(context.Background()); err != nil {
		return err
	}
	if err := s.authorize(ctx, "GetRecords"); err != nil {
		return err
	}
	if cfg.Leases == nil {
		cfg.Leases = s.acct.LeaseStore()
	}
	if err := defaults(&cfg); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}
	cfg.Clock, cfg.Logger = s.acct.cfg.clock, s.acct.cfg.log
	return newWorker(embeddedSource{s}, s.leaseTable(cfg.Application), cfg).run(ctx)
}

// RunWorker runs a worker of the consumer group cfg.Application on stream
// until ctx is done. The worker takes a fair share of the shards' leases —
// taking over those whose holder stopped renewing, and stealing from
// busier workers to balance — and runs a RecordProcessor for each shard it
// holds, starting a shard only when its parents have been processed to
// their end. When ctx is done, it asks its processors to shut down, waits
// for them and releases its leases, so that other workers take over at
// once; then it returns nil (also if ctx was done before it started). It
// returns an error at once for a bad config, and ErrClosed or
// ErrResourceNotFound when the account closes or the stream is deleted.
// No goroutine of the worker outlives the call.
//
// On a *Stream the leases are kept in the account's lease store unless
// cfg.Leases names another. On any other implementation of StreamAPI — on
// Amazon Kinesis through the module github.com/shardlog/shardlog/aws —
// cfg.Leases is required (the aws module's LeaseStore keeps them in
// DynamoDB, in the Kinesis Client Library's schema); the group reads with
// GetRecords every cfg.PollInterval once it has caught up, or with
// SubscribeToShard. Its leases of shards not yet read hold no checkpoint
// but a starting position (Lease.Start), as the KCL's do. Records removed
// before they were read cannot be told apart from records never written
// there, so ProcessRecordsInput.Lost is always nil there.
func RunWorker(ctx context.Context, stream StreamAPI, cfg WorkerConfig) error {
	if s, ok := stream.(*Stream); ok {
		return s.runWorker(ctx, cfg)
	}
	if cfg.Leases == nil {
		return configError("Leases", "is required for a stream other than a *Stream.")
	}
	if err := defaults(&cfg); err != nil {
		return err
	}
	switch {
	case cfg.PollInterval == 0:
		cfg.PollInterval = time.Second
	case cfg.PollInterval < 0:
		return configError("PollInterval", "%v is negative.", cfg.PollInterval)
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if ctx.Err() != nil {
		return nil
	}
	src := &apiSource{stream: stream, gone: make(chan struct{})}
	return newWorker(src, stream.Name()+"/"+cfg.Application, cfg).run(ctx)
}

// ErrInvalidConfig is returned by RunWorker at once for a WorkerConfig it
// cannot run; the message names the field.
var ErrInvalidConfig = errors.New("shardlog: invalid WorkerConfig")

func configError(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...))
}

func defaults(cfg *WorkerConfig) error {
	if checkName("application", cfg.Application) != nil {
		return configError("Application", "%q is not 1 to 128 of a-z, A-Z, 0-9, _ . and -.", cfg.Application)
	}
	if cfg.NewProcessor == nil {
		return configError("NewProcessor", "is required.")
	}
	if cfg.WorkerID == "" {
		cfg.WorkerID = uniqueWorkerID()
	}
	if cfg.InitialPosition.Type == "" {
		cfg.InitialPosition.Type = TrimHorizon
	}
	switch cfg.InitialPosition.Type {
	case TrimHorizon, Latest, AtTimestamp:
	default:
		return configError("InitialPosition", "is %q: a group starts at TRIM_HORIZON, LATEST or AT_TIMESTAMP.", cfg.InitialPosition.Type)
	}
	switch {
	case cfg.FailoverTime == 0:
		cfg.FailoverTime = 10 * time.Second
	case cfg.FailoverTime < 3*time.Millisecond:
		return configError("FailoverTime", "%v is below 3ms.", cfg.FailoverTime)
	}
	if cfg.MaxRecords == 0 {
		cfg.MaxRecords = maxGetRecords
	}
	if cfg.MaxRecords < 1 || cfg.MaxRecords > maxGetRecords {
		return configError("MaxRecords", "%d is outside [1, 10000].", cfg.MaxRecords)
	}
	if cfg.IdleInterval < 0 {
		return configError("IdleInterval", "%v is negative.", cfg.IdleInterval)
	}
	return nil
}

// uniqueWorkerID is a WorkerID no other worker has: the host, the process
// and 32 random bits, so that a log line says where a worker runs.
func uniqueWorkerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "host"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return host + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b[:])
}

// leaseTable names a group's table in a LeaseStore: the stream, its
// incarnation (a stream created again under the name starts afresh) and
// the application.
func (s *Stream) leaseTable(application string) string {
	return fmt.Sprintf("%s/%d/%s", s.name, s.inc, application)
}
