package shardlog_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

// funcProcessor is a RecordProcessor of functions, for tests of one call.
type funcProcessor struct {
	process func(ctx context.Context, in shardlog.ProcessRecordsInput) error
	lost    func()
}

func (p funcProcessor) Initialize(context.Context, shardlog.InitializeInput) error { return nil }
func (p funcProcessor) ProcessRecords(ctx context.Context, in shardlog.ProcessRecordsInput) error {
	return p.process(ctx, in)
}
func (p funcProcessor) LeaseLost(context.Context, shardlog.LeaseLostInput) {
	if p.lost != nil {
		p.lost()
	}
}
func (p funcProcessor) ShardEnded(ctx context.Context, in shardlog.ShardEndedInput) error {
	return in.Checkpointer.Checkpoint(ctx)
}
func (p funcProcessor) ShutdownRequested(context.Context, shardlog.ShutdownRequestedInput) error {
	return nil
}

// runWorker runs a worker of "app" on s with cfg until the test ends.
func runWorker(t *testing.T, s shardlog.StreamAPI, cfg shardlog.WorkerConfig) {
	t.Helper()
	if cfg.Application == "" {
		cfg.Application = "app"
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- shardlog.RunWorker(ctx, s, cfg) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// await returns the next value of ch, advancing clk meanwhile by step (0:
// running only what is due), failing the test if none comes.
func await[T any](t *testing.T, clk *shardlog.ManualClock, step time.Duration, ch <-chan T) T {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		select {
		case v := <-ch:
			return v
		default:
		}
		require.True(t, time.Now().Before(deadline), "nothing came")
		clk.Advance(step)
		runtime.Gosched()
	}
}

// TestProcessorErrorDeliversTheBatchAgain: a processor that returns an
// error gets the same batch again a second later, and the next batch only
// once it succeeds.
func TestProcessorErrorDeliversTheBatchAgain(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	put(t, s, "k", "one")
	put(t, s, "k", "two")
	batches := make(chan []string, 16)
	var calls atomic.Int32
	runWorker(t, s, shardlog.WorkerConfig{NewProcessor: shardlog.ProcessFunc(func(_ context.Context, in shardlog.ProcessRecordsInput) error {
		var data []string
		for _, r := range in.Records {
			data = append(data, string(r.Data))
		}
		batches <- data
		if calls.Add(1) == 1 {
			return errors.New("the database is down")
		}
		return nil
	})})
	require.Equal(t, []string{"one", "two"}, await(t, clk, 0, batches))
	require.Equal(t, []string{"one", "two"}, await(t, clk, time.Second, batches), "the same batch, a second later")
	put(t, s, "k", "three")
	require.Equal(t, []string{"three"}, await(t, clk, 0, batches))
}

// TestProcessFuncCheckpointsEachBatch: with ProcessFunc, what a batch
// function returned nil for is not delivered again after a restart.
func TestProcessFuncCheckpointsEachBatch(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	for i := range 10 {
		put(t, s, fmt.Sprint("k", i), fmt.Sprint(i))
	}
	seen := make(chan string, 64)
	process := shardlog.ProcessFunc(func(_ context.Context, in shardlog.ProcessRecordsInput) error {
		for _, r := range in.Records {
			seen <- string(r.Data)
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- shardlog.RunWorker(ctx, s, shardlog.WorkerConfig{Application: "app", NewProcessor: process})
	}()
	for range 10 {
		await(t, clk, 0, seen)
	}
	cancel()
	require.NoError(t, <-done)

	put(t, s, "k", "new")
	runWorker(t, s, shardlog.WorkerConfig{NewProcessor: process})
	require.Equal(t, "new", await(t, clk, 0, seen), "nothing processed comes again")
}

// TestProcessorContextEndsWithTheLease: a processor busy when its lease is
// taken from it sees its context done, and then LeaseLost.
func TestProcessorContextEndsWithTheLease(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	put(t, s, "k", "x")
	started, cancelled, lost := make(chan struct{}, 1), make(chan error, 1), make(chan struct{}, 1)
	store := &failingStore{LeaseStore: a.LeaseStore()}
	runWorker(t, s, shardlog.WorkerConfig{WorkerID: "A", Leases: store, FailoverTime: 3 * time.Second,
		NewProcessor: func(string) shardlog.RecordProcessor {
			return funcProcessor{
				process: func(ctx context.Context, in shardlog.ProcessRecordsInput) error {
					started <- struct{}{}
					<-ctx.Done() // as a call that waits on the network
					cancelled <- ctx.Err()
					return ctx.Err()
				},
				lost: func() { lost <- struct{}{} },
			}
		}})
	await(t, clk, 0, started)
	store.failing.Store(true) // A can no longer renew: after the failover time it lets go
	require.ErrorIs(t, await(t, clk, time.Second, cancelled), context.Canceled)
	await(t, clk, 0, lost)
}

// TestIdleBatches: with IdleInterval, a caught-up shard's processor is
// called with no records every interval, on the stream and through the
// StreamAPI, and can checkpoint then.
func TestIdleBatches(t *testing.T) {
	for _, api := range []bool{false, true} {
		t.Run(fmt.Sprint("api=", api), func(t *testing.T) {
			a, clk := newAccount(t)
			s := newStream(t, a, "s", 1)
			put(t, s, "k", "x")
			batches := make(chan shardlog.ProcessRecordsInput, 64)
			cfg := shardlog.WorkerConfig{IdleInterval: 5 * time.Second, Clock: clk,
				NewProcessor: shardlog.ProcessFunc(func(_ context.Context, in shardlog.ProcessRecordsInput) error {
					in.Records = append([]shardlog.Record(nil), in.Records...)
					batches <- in
					return nil
				})}
			var stream shardlog.StreamAPI = s
			if api {
				stream, cfg.Leases = apiOnly{s}, shardlog.NewMemoryLeaseStore()
			}
			runWorker(t, stream, cfg)
			first := await(t, clk, 0, batches)
			require.Len(t, first.Records, 1)
			start := clk.Now()
			idle := await(t, clk, time.Second, batches)
			require.Empty(t, idle.Records)
			require.Zero(t, idle.MillisBehindLatest)
			require.NotNil(t, idle.Checkpointer)
			require.GreaterOrEqual(t, clk.Now().Sub(start), 5*time.Second)
			require.NoError(t, idle.Checkpointer.Checkpoint(context.Background()), "a checkpoint on a timer")
			require.Empty(t, await(t, clk, time.Second, batches).Records, "and again")
		})
	}
}

// TestDescribeGroupOnAnyStream: the same call reports a group's leases and
// lag embedded and through the StreamAPI, and a group that never ran is
// not found rather than empty.
func TestDescribeGroupOnAnyStream(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	store := shardlog.NewMemoryLeaseStore()
	seen := make(chan string, 16)
	process := shardlog.ProcessFunc(func(_ context.Context, in shardlog.ProcessRecordsInput) error {
		for _, r := range in.Records {
			seen <- string(r.Data)
		}
		return nil
	})
	runWorker(t, s, shardlog.WorkerConfig{NewProcessor: process})
	runWorker(t, apiOnly{s}, shardlog.WorkerConfig{Application: "remote", NewProcessor: process, Leases: store, Clock: clk})
	putTo(t, s, "shardId-000000000000", "x")
	// The API group polls on the clock: it may have found the shard empty
	// and be waiting for its next poll.
	await(t, clk, 100*time.Millisecond, seen)
	await(t, clk, 100*time.Millisecond, seen)

	for name, describe := range map[string]func(string) ([]shardlog.GroupShard, error){
		"embedded": func(app string) ([]shardlog.GroupShard, error) { return shardlog.DescribeGroup(ctx, s, app, nil) },
		"api": func(app string) ([]shardlog.GroupShard, error) {
			return shardlog.DescribeGroup(ctx, apiOnly{s}, app, store)
		},
	} {
		app := "app"
		if name == "api" {
			app = "remote"
		}
		var group []shardlog.GroupShard
		for deadline := time.Now().Add(10 * time.Second); ; {
			var err error
			group, err = describe(app)
			require.NoError(t, err, name)
			if group[0].MillisBehind == 0 {
				break // checkpointed
			}
			require.True(t, time.Now().Before(deadline), "%s: never caught up: %+v", name, group)
			clk.Advance(0)
		}
		require.Len(t, group, 2, name)
		require.Equal(t, "shardId-000000000000", group[0].Key, name)

		_, err := describe("misspelled")
		require.ErrorIs(t, err, shardlog.ErrResourceNotFound, name)
	}
	_, err := shardlog.DescribeGroup(ctx, apiOnly{s}, "remote", nil)
	require.ErrorIs(t, err, shardlog.ErrInvalidConfig, "a store is needed beyond *Stream")

	// Behind: a group that cannot process its record shows it, in both.
	failing := func(context.Context, shardlog.ProcessRecordsInput) error { return errors.New("down") }
	runWorker(t, s, shardlog.WorkerConfig{Application: "stuck", NewProcessor: shardlog.ProcessFunc(failing)})
	runWorker(t, apiOnly{s}, shardlog.WorkerConfig{Application: "stuck", NewProcessor: shardlog.ProcessFunc(failing), Leases: store, Clock: clk})
	for name, describe := range map[string]func() ([]shardlog.GroupShard, error){
		"embedded": func() ([]shardlog.GroupShard, error) { return shardlog.DescribeGroup(ctx, s, "stuck", nil) },
		"api":      func() ([]shardlog.GroupShard, error) { return shardlog.DescribeGroup(ctx, apiOnly{s}, "stuck", store) },
	} {
		_, err := describe()
		for deadline := time.Now().Add(10 * time.Second); err != nil; _, err = describe() {
			require.ErrorIs(t, err, shardlog.ErrResourceNotFound, name) // its worker is yet to make its leases
			require.True(t, time.Now().Before(deadline), name)
			runtime.Gosched()
		}
		clk.Advance(time.Second)
		group, err := describe()
		require.NoError(t, err, name)
		require.Len(t, group, 2, name)
		require.Positive(t, group[0].MillisBehind, "%s: %+v", name, group[0])
		require.Zero(t, group[1].MillisBehind, "%s: an empty shard", name)
		if name == "embedded" {
			require.Equal(t, uint64(1), group[0].RecordsBehind)
		}
	}
}
