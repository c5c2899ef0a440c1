package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"sync"
	"time"

	"github.com/shardlog/shardlog"
)

// ErrSkip is what Decode returns for a record the job is to leave out
// quietly — one a filter does not pass — rather than report to Rejected.
var ErrSkip = errors.New("analytics: record left out")

// ErrInvalidConfig is returned by New for a Config it cannot run, wrapped
// with the reason.
var ErrInvalidConfig = errors.New("analytics: invalid Config")

// Config describes a job: where its events come from, how they are keyed
// and timed, the windows and the aggregate, and where results go. E is the
// event type Decode makes of a record, K the key, A the aggregate's
// accumulator and R its result.
type Config[E any, K comparable, A, R any] struct {
	// Name names the job: it is the application of the consumer groups
	// reading Sources, the name of its snapshot in Store, and part of every
	// result's ID. 1 to 128 of a-z, A-Z, 0-9, _ . and -. Required.
	Name string
	// Sources are the streams the job reads, through consumer groups
	// (shardlog.RunWorker): each shard after its parents, from
	// InitialPosition when the group is new. At least one.
	Sources []shardlog.StreamAPI
	// Leases keeps the groups' leases; required for Sources that are not
	// *shardlog.Stream (see shardlog.WorkerConfig.Leases).
	Leases shardlog.LeaseStore
	// Store keeps the job's snapshots (DirStore, MemoryStore). Required.
	Store Store
	// InitialPosition is where a new job starts reading: TRIM_HORIZON by
	// default.
	InitialPosition shardlog.StartingPosition
	// EnhancedFanOut reads with SubscribeToShard (see
	// shardlog.WorkerConfig.EnhancedFanOut).
	EnhancedFanOut bool

	// Decode makes an event of a record (records the Kinesis Producer
	// Library aggregated are unpacked first). A record it fails on is
	// given to Rejected and skipped; one it returns ErrSkip for is skipped
	// quietly. Required.
	Decode func(shardlog.UserRecord) (E, error)
	// Key groups events: each key's windows are aggregated apart.
	// Required.
	Key func(E) K
	// ByPartitionKey says Key is a function of the record's partition key
	// (or explicit hash key), so that all of a key's events are in one
	// shard at a time. Each shard's windows then live with its lease, in a
	// snapshot of their own: the job's instances share the shards as a
	// consumer group's workers do (any number run at once, no standby),
	// and a shard's watermark is its own — a shard without new records
	// does not close its last windows until it has some. Without it, one
	// instance reads every shard (see the package's Caveats).
	ByPartitionKey bool
	// EventTime says when an event happened. With it, windows are in event
	// time and close when the watermark passes them; without it, an event
	// is in the window of the moment the job reads it (processing time, on
	// Clock) and windows close when Clock passes them.
	EventTime func(E) time.Time
	// MaxOutOfOrderness is how far an event may come after a later one on
	// its shard and still count: a shard's watermark is its latest event
	// time less this. The job's watermark is the least of its shards',
	// leaving out shards idle for IdleTimeout.
	MaxOutOfOrderness time.Duration
	// IdleTimeout is how long a shard may go without records (on Clock)
	// before its watermark stops holding the job's back — until it has
	// records again. When every shard is idle, the watermark moves to the
	// greatest of theirs. Default: one minute.
	IdleTimeout time.Duration
	// AllowedLateness keeps a window open that much past the watermark
	// passing its end, for late events: it fires once, when the watermark
	// reaches its end plus AllowedLateness. Default 0, as Flink's.
	AllowedLateness time.Duration

	// Window groups each key's events in time: Tumbling, Hopping or
	// Session. Required.
	Window Window
	// Aggregate folds a window's events into its result. Required.
	Aggregate Aggregator[E, A, R]
	// Output takes the results (StreamOutput, DeliveryOutput, or your own
	// OutputFunc). Required.
	Output Output[K, R]
	// Late, if set, gets the events that came after every window they
	// belong to had fired — the side output of late events. They are not
	// in any result. It is called from the job's goroutine; events are
	// given at least once (again after a crash).
	Late func(LateEvent[E])
	// Rejected, if set, gets the records Decode failed on; by default
	// they are logged. It is called from the shard's consumer.
	Rejected func(shardlog.UserRecord, error)

	// SnapshotInterval is how often the job saves a snapshot when it has
	// read something new, besides each time windows fire: the most a
	// restarted job reads again. Default: 10 seconds.
	SnapshotInterval time.Duration
	// WorkerID names this instance in the consumer groups (see
	// shardlog.WorkerConfig.WorkerID) and as the holder of the job's
	// lease: restarted under the same ID, it takes them back at once.
	// Default: the host name, the process ID and a random part.
	WorkerID string
	// FailoverTime is how long an instance may go without renewing the
	// job's lease (and its shards' leases) before another takes the job
	// over. Default: 10 seconds, as the Kinesis Client Library's.
	FailoverTime time.Duration
	// Clock times idleness, processing time and snapshots; default: the
	// first source's account clock for a *shardlog.Stream, else the system
	// clock.
	Clock shardlog.Clock
	// Logger receives the job's warnings; default: none.
	Logger *slog.Logger
}

// LateEvent is an event that came too late for any window.
type LateEvent[E any] struct {
	Event          E
	Time           time.Time // its event time
	Watermark      time.Time // the job's watermark when it came
	ShardID        string    // "<stream>/<shard ID>"
	SequenceNumber shardlog.SequenceNumber
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

// Job is a running windowed aggregation: see New and Run.
//
// A job runs in one instance at a time (see the package's Caveats): its
// Run waits while another instance holds the job.
type Job[E any, K comparable, A, R any] struct {
	cfg    Config[E, K, A, R]
	leases shardlog.LeaseStore // the job's lease's, and its groups' unless Config.Leases names others
	stats  stats

	mu      sync.Mutex
	saved   map[string]shardlog.SequenceNumber // guarded by mu: each shard's position in the last snapshot saved
	shardWM map[string]int64                   // guarded by mu: with ByPartitionKey, the watermarks of the shards read
}

// New checks cfg and returns a job ready to Run.
func New[E any, K comparable, A, R any](cfg Config[E, K, A, R]) (*Job[E, K, A, R], error) {
	switch {
	case !namePattern.MatchString(cfg.Name):
		return nil, fmt.Errorf("%w: Name %q must be 1 to 128 of a-z, A-Z, 0-9, _ . and -", ErrInvalidConfig, cfg.Name)
	case len(cfg.Sources) == 0:
		return nil, fmt.Errorf("%w: no Sources", ErrInvalidConfig)
	case cfg.Store == nil:
		return nil, fmt.Errorf("%w: no Store", ErrInvalidConfig)
	case cfg.Decode == nil || cfg.Key == nil:
		return nil, fmt.Errorf("%w: Decode and Key are required", ErrInvalidConfig)
	case cfg.Aggregate == nil:
		return nil, fmt.Errorf("%w: no Aggregate", ErrInvalidConfig)
	case cfg.Output == nil:
		return nil, fmt.Errorf("%w: no Output", ErrInvalidConfig)
	case cfg.MaxOutOfOrderness < 0 || cfg.IdleTimeout < 0 || cfg.AllowedLateness < 0 || cfg.SnapshotInterval < 0 || cfg.FailoverTime < 0:
		return nil, fmt.Errorf("%w: durations must not be negative", ErrInvalidConfig)
	}
	if err := cfg.Window.check(); err != nil {
		return nil, err
	}
	// Snapshots keep keys and accumulators as JSON.
	if key := *new(K); !marshals(key) {
		return nil, fmt.Errorf("%w: the key type %T has no JSON, which snapshots need", ErrInvalidConfig, key)
	}
	if zero := cfg.Aggregate.Zero(); !marshals(zero) {
		return nil, fmt.Errorf("%w: the accumulator type %T has no JSON, which snapshots need", ErrInvalidConfig, zero)
	}
	seen := map[string]bool{}
	for _, s := range cfg.Sources {
		if s == nil {
			return nil, fmt.Errorf("%w: a nil source", ErrInvalidConfig)
		}
		if seen[s.Name()] {
			return nil, fmt.Errorf("%w: the source %s is given twice", ErrInvalidConfig, s.Name())
		}
		seen[s.Name()] = true
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = time.Minute
	}
	if cfg.SnapshotInterval == 0 {
		cfg.SnapshotInterval = 10 * time.Second
	}
	if cfg.FailoverTime == 0 {
		cfg.FailoverTime = 10 * time.Second
	}
	leases := cfg.Leases
	if s, ok := cfg.Sources[0].(*shardlog.Stream); ok && leases == nil {
		leases = s.Account().LeaseStore()
	}
	if leases == nil {
		return nil, fmt.Errorf("%w: Leases is required for sources other than *shardlog.Stream", ErrInvalidConfig)
	}
	if cfg.Clock == nil {
		cfg.Clock = shardlog.SystemClock()
		if s, ok := cfg.Sources[0].(*shardlog.Stream); ok {
			cfg.Clock = s.Account().Clock()
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	j := &Job[E, K, A, R]{cfg: cfg, leases: leases, saved: map[string]shardlog.SequenceNumber{}, shardWM: map[string]int64{}}
	j.stats.watermark.Store(floor)
	return j, nil
}

// Run runs the job until ctx is done. It first takes the job's lease,
// waiting while another instance holds it; then it restores the last snapshot,
// emits the results it holds that were not yet emitted, reads the
// sources, and fires windows as the watermark passes them. When ctx is
// done it stops reading, saves a snapshot and returns nil. It returns an
// error when a source fails (deleted, its account closed), when the
// snapshot cannot be read or saved, ErrJobTakenOver when another instance
// took the job's lease, or ErrSnapshotConflict when another instance saved
// a snapshot. No goroutine of the job outlives the call.
func (j *Job[E, K, A, R]) Run(ctx context.Context) error {
	if j.cfg.ByPartitionKey {
		return j.runByPartitionKey(ctx)
	}
	lock := newJobLock(j.leases, j.cfg.Name, j.cfg.WorkerID, j.cfg.Clock, j.cfg.FailoverTime)
	if err := lock.acquire(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer lock.release(context.WithoutCancel(ctx))
	op, err := j.restore(ctx)
	if err != nil {
		return err
	}
	if err := op.flush(ctx); err != nil {
		return err
	}
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	opCtx, stopOp := context.WithCancel(context.WithoutCancel(ctx))
	defer stopOp()
	opDone := make(chan error, 1)
	go func() { opDone <- op.run(opCtx, ctx) }()

	var wg sync.WaitGroup
	errs := make(chan error, len(j.cfg.Sources)+1)
	for _, src := range j.cfg.Sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := shardlog.RunWorker(readCtx, src, j.workerConfig(src, func(shardID string) shardlog.RecordProcessor {
				return j.newProcessor(op, src, shardID)
			}))
			if err != nil {
				errs <- fmt.Errorf("analytics: reading %s: %w", src.Name(), err)
				stopReading()
			}
		}()
	}
	var opErr error
	select {
	case <-readCtx.Done():
	case opErr = <-opDone:
		stopReading()
	case <-lock.lost:
		stopReading()
		errs <- ErrJobTakenOver
	}
	wg.Wait()
	if opErr == nil {
		stopOp()
		opErr = <-opDone
	}
	close(errs)
	var readErrs []error
	for err := range errs {
		readErrs = append(readErrs, err)
	}
	return errors.Join(append([]error{opErr}, readErrs...)...)
}

func marshals(v any) bool {
	_, err := json.Marshal(v)
	return err == nil
}

// runByPartitionKey runs the consumer groups of a job keyed by partition
// key: each shard's consumer keeps its windows (see shardWindows).
func (j *Job[E, K, A, R]) runByPartitionKey(ctx context.Context) error {
	errs := make(chan error, len(j.cfg.Sources))
	readCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	for _, src := range j.cfg.Sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := shardlog.RunWorker(readCtx, src, j.workerConfig(src, func(shardID string) shardlog.RecordProcessor {
				return j.newShardWindows(src, shardID)
			})); err != nil {
				errs <- fmt.Errorf("analytics: reading %s: %w", src.Name(), err)
				stop()
			}
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// workerConfig is the consumer group's config for a source.
func (j *Job[E, K, A, R]) workerConfig(src shardlog.StreamAPI, newProcessor func(string) shardlog.RecordProcessor) shardlog.WorkerConfig {
	return shardlog.WorkerConfig{
		Application:     j.cfg.Name,
		WorkerID:        j.cfg.WorkerID,
		NewProcessor:    newProcessor,
		InitialPosition: j.cfg.InitialPosition,
		EnhancedFanOut:  j.cfg.EnhancedFanOut,
		Deaggregate:     true,
		Leases:          j.cfg.Leases,
		FailoverTime:    j.cfg.FailoverTime,
		IdleInterval:    time.Second,
		Clock:           j.cfg.Clock,
		Logger:          j.cfg.Logger,
	}
}

// savedPosition is the shard's position in the last snapshot saved: as
// far as its lease may be checkpointed.
func (j *Job[E, K, A, R]) savedPosition(shard string) shardlog.SequenceNumber {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.saved[shard]
}

func (j *Job[E, K, A, R]) publish(shards map[string]shardState) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for k, s := range shards {
		j.saved[k] = s.Position
	}
}

// restore makes the job's operator from its snapshot.
func (j *Job[E, K, A, R]) restore(ctx context.Context) (*operator[E, K, A, R], error) {
	op := &operator[E, K, A, R]{
		j:       j,
		msgs:    make(chan message[E, K], 16),
		stopped: make(chan struct{}),
		tick:    make(chan struct{}, 1),
		out:     outbox[K, R]{store: j.cfg.Store, name: j.cfg.Name, clock: j.cfg.Clock, interval: j.cfg.SnapshotInterval},
		state:   newWindows[E, K, A, R](j.cfg.Window, int64(j.cfg.AllowedLateness), j.cfg.Aggregate, j.cfg.Name),
		active:  map[string]*liveShard{},
	}
	data, version, err := j.cfg.Store.Load(ctx, j.cfg.Name)
	if err != nil {
		return nil, fmt.Errorf("analytics: loading the snapshot of %s: %w", j.cfg.Name, err)
	}
	op.shards = map[string]shardState{}
	var pending []Result[K, R]
	if data != nil {
		if op.shards, pending, err = op.state.decode(data); err != nil {
			return nil, err
		}
	}
	op.out.restored(version, pending, j.cfg.Clock.Now())
	j.stats.pending.Store(int64(len(pending)))
	j.publish(op.shards)
	j.stats.watermark.Store(op.state.watermark)
	// The shards that exist now hold the watermark back until they are read
	// or idle, so that a shard whose consumer starts late does not find
	// its records late.
	// A new job waits only for the shards it will read: from LATEST or a
	// timestamp, not the shards closed before.
	var filter shardlog.ShardFilter
	if data == nil {
		switch p := j.cfg.InitialPosition; p.Type {
		case shardlog.Latest:
			filter.Type = shardlog.FilterAtLatest
		case shardlog.AtTimestamp:
			filter = shardlog.ShardFilter{Type: shardlog.FilterAtTimestamp, Timestamp: p.Timestamp}
		}
	}
	now := j.cfg.Clock.Now()
	for _, src := range j.cfg.Sources {
		in := shardlog.ListShardsInput{ShardFilter: filter}
		for {
			out, err := src.ListShards(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("analytics: listing the shards of %s: %w", src.Name(), err)
			}
			for _, sh := range out.Shards {
				key := src.Name() + "/" + sh.ShardID
				if !op.shards[key].Ended {
					op.active[key] = &liveShard{lastActive: now}
				}
			}
			if out.NextToken == "" {
				break
			}
			in = shardlog.ListShardsInput{NextToken: out.NextToken}
		}
	}
	return op, nil
}

// floor is the lowest event time: no watermark yet.
const floor = math.MinInt64
