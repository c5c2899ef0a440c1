package analytics_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/analytics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	ctx   = context.Background()
	quiet = slog.New(slog.DiscardHandler)
	t0    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// click is the events of the tests: a page view.
type click struct {
	Page string  `json:"page"`
	User string  `json:"user"`
	At   int64   `json:"at"` // event time, Unix milliseconds
	Ms   float64 `json:"ms"` // load time
}

func decodeClick(u shardlog.UserRecord) (click, error) {
	var c click
	err := json.Unmarshal(u.Data, &c)
	return c, err
}

func clickTime(c click) time.Time { return time.UnixMilli(c.At).UTC() }
func clickPage(c click) string    { return c.Page }

// rig is an embedded stream on a manual clock with a job's results
// gathered.
type rig struct {
	t       *testing.T
	clk     *shardlog.ManualClock
	acct    *shardlog.Account
	s       *shardlog.Stream
	store   analytics.Store
	results chan analytics.Result[string, int64]
}

func newRig(t *testing.T, shards int) *rig {
	t.Helper()
	clk := shardlog.NewManualClock(t0)
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
	require.NoError(t, err)
	t.Cleanup(func() { acct.Close() })
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "clicks", ShardCount: shards})
	require.NoError(t, err)
	return &rig{t: t, clk: clk, acct: acct, s: s, store: analytics.MemoryStore(),
		results: make(chan analytics.Result[string, int64], 10000)}
}

// countConfig counts clicks per page in windows w, in event time.
func (r *rig) countConfig(w analytics.Window) analytics.Config[click, string, int64, int64] {
	return analytics.Config[click, string, int64, int64]{
		Name: "page-counts", Sources: []shardlog.StreamAPI{r.s}, Store: r.store,
		Decode: decodeClick, Key: clickPage, EventTime: clickTime,
		Window: w, Aggregate: analytics.Count[click](),
		Output: analytics.OutputFunc[string, int64](func(_ context.Context, rs []analytics.Result[string, int64]) error {
			for _, x := range rs {
				r.results <- x
			}
			return nil
		}),
		Logger: quiet,
	}
}

// start runs the job until the test ends; stop stops it and returns Run's
// error.
func start[E any, K comparable, A, R any](t *testing.T, cfg analytics.Config[E, K, A, R]) (stop func() error) {
	t.Helper()
	_, stop = run(t, cfg)
	return stop
}

// run is start, returning the job too.
func run[E any, K comparable, A, R any](t *testing.T, cfg analytics.Config[E, K, A, R]) (j *analytics.Job[E, K, A, R], stop func() error) {
	t.Helper()
	j, err := analytics.New(cfg)
	require.NoError(t, err)
	c, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- j.Run(c) }()
	stopped := false
	var runErr error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			runErr = <-done
		}
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return j, stop
}

// await waits until cond holds of the job's stats, advancing the clock by
// step (0: not at all) between looks; the real-time bound only fails a
// stuck test.
func await[E any, K comparable, A, R any](t *testing.T, clk *shardlog.ManualClock, j *analytics.Job[E, K, A, R], step time.Duration, cond func(analytics.Stats) bool) {
	t.Helper()
	ok := assert.Eventually(t, func() bool {
		if cond(j.Stats()) {
			return true
		}
		if step > 0 {
			clk.Advance(step)
		}
		return false
	}, 20*time.Second, time.Millisecond)
	if !ok {
		t.Fatalf("stats %+v at %v", j.Stats(), clk.Now().Sub(t0))
	}
}

// put writes a click to shard i of the stream (by explicit hash key).
func (r *rig) put(shard int, c click) {
	r.t.Helper()
	data, err := json.Marshal(c)
	require.NoError(r.t, err)
	_, err = r.s.Put(ctx, shardlog.PutInput{PartitionKey: c.User + "x", Data: data, ExplicitHashKey: r.hashKey(shard)})
	require.NoError(r.t, err)
}

// hashKey is the first hash key of the stream's open shard i.
func (r *rig) hashKey(i int) string {
	out, err := r.s.ListShards(ctx, shardlog.ListShardsInput{ShardFilter: shardlog.ShardFilter{Type: shardlog.FilterAtLatest}})
	require.NoError(r.t, err)
	require.Less(r.t, i, len(out.Shards))
	return out.Shards[i].HashKeyRange.StartingHashKey
}

// next waits for n results (failing after a real-time guard).
func (r *rig) next(n int) []analytics.Result[string, int64] {
	r.t.Helper()
	var got []analytics.Result[string, int64]
	guard := time.After(20 * time.Second)
	for len(got) < n {
		select {
		case x := <-r.results:
			got = append(got, x)
		case <-guard:
			r.t.Fatalf("got %d results, want %d: %v", len(got), n, got)
		}
	}
	return got
}

func ms(d time.Duration) int64 { return t0.Add(d).UnixMilli() }
