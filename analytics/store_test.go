package analytics_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/analytics"
)

// TestRestartResumesFromTheSnapshot: a job stopped and started again (a
// new process, the same store) keeps its open windows and reads on from
// where its snapshot left off: no event counted twice or lost.
func TestRestartResumesFromTheSnapshot(t *testing.T) {
	r := newRig(t, 2)
	r.store = analytics.DirStore(t.TempDir())
	cfg := r.countConfig(analytics.Tumbling(time.Minute))
	cfg.Store = r.store
	j, stop := run(t, cfg)
	r.put(0, click{Page: "a", At: ms(10 * time.Second)})
	r.put(1, click{Page: "a", At: ms(20 * time.Second)})
	await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Events == 2 })
	require.NoError(t, stop())

	r.put(0, click{Page: "a", At: ms(30 * time.Second)}) // while no job runs
	j, _ = run(t, cfg)
	r.put(1, click{Page: "a", At: ms(40 * time.Second)})
	r.put(0, click{Page: "x", At: ms(90 * time.Second)})
	r.put(1, click{Page: "x", At: ms(90 * time.Second)})
	require.Equal(t, []row{{"a", 0, time.Minute, 4}}, rows(r.next(1)))
	require.Equal(t, int64(4), j.Stats().Events, "the two events of the first run were not read again into windows")
}

// TestDamagedSnapshotIsAnError: a snapshot file that does not check out
// stops the job; it never starts over from nothing.
func TestDamagedSnapshotIsAnError(t *testing.T) {
	r := newRig(t, 1)
	dir := t.TempDir()
	cfg := r.countConfig(analytics.Tumbling(time.Minute))
	cfg.Store = analytics.DirStore(dir)
	j, stop := run(t, cfg)
	r.put(0, click{Page: "a", At: ms(10 * time.Second)})
	await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Events == 1 })
	require.NoError(t, stop())
	name := filepath.Join(dir, "page-counts.snapshot")
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	b[len(b)/2] ^= 1
	require.NoError(t, os.WriteFile(name, b, 0o644))
	j, err = analytics.New(cfg)
	require.NoError(t, err)
	require.ErrorContains(t, j.Run(ctx), "page-counts.snapshot is damaged")
}

// TestSecondInstanceConflicts: two instances of one job cannot both save:
// the one that finds a newer snapshot than its own stops.
func TestSecondInstanceConflicts(t *testing.T) {
	store := analytics.MemoryStore()
	require.NoError(t, store.Save(ctx, "job", 1, []byte("a")))
	require.ErrorIs(t, store.Save(ctx, "job", 1, []byte("b")), analytics.ErrSnapshotConflict)
	data, version, err := store.Load(ctx, "job")
	require.NoError(t, err)
	require.Equal(t, "a", string(data))
	require.Equal(t, int64(1), version)

	dir := analytics.DirStore(t.TempDir())
	require.NoError(t, dir.Save(ctx, "job", 1, []byte("a")))
	require.ErrorIs(t, dir.Save(ctx, "job", 3, []byte("b")), analytics.ErrSnapshotConflict)
	require.NoError(t, dir.Save(ctx, "job", 2, []byte("b")))
	data, version, err = dir.Load(ctx, "job")
	require.NoError(t, err)
	require.Equal(t, "b", string(data))
	require.Equal(t, int64(2), version)
}

func TestNewRefusesBadConfigs(t *testing.T) {
	r := newRig(t, 1)
	for name, change := range map[string]func(*analytics.Config[click, string, int64, int64]){
		"name":       func(c *analytics.Config[click, string, int64, int64]) { c.Name = "bad name" },
		"no sources": func(c *analytics.Config[click, string, int64, int64]) { c.Sources = nil },
		"twice":      func(c *analytics.Config[click, string, int64, int64]) { c.Sources = append(c.Sources, r.s) },
		"no store":   func(c *analytics.Config[click, string, int64, int64]) { c.Store = nil },
		"no decode":  func(c *analytics.Config[click, string, int64, int64]) { c.Decode = nil },
		"no key":     func(c *analytics.Config[click, string, int64, int64]) { c.Key = nil },
		"no window":  func(c *analytics.Config[click, string, int64, int64]) { c.Window = analytics.Window{} },
		"tumbling 0": func(c *analytics.Config[click, string, int64, int64]) { c.Window = analytics.Tumbling(0) },
		"slide>size": func(c *analytics.Config[click, string, int64, int64]) {
			c.Window = analytics.Hopping(time.Second, time.Minute)
		},
		"session 0":  func(c *analytics.Config[click, string, int64, int64]) { c.Window = analytics.Session(-time.Second) },
		"no output":  func(c *analytics.Config[click, string, int64, int64]) { c.Output = nil },
		"no agg":     func(c *analytics.Config[click, string, int64, int64]) { c.Aggregate = nil },
		"negative":   func(c *analytics.Config[click, string, int64, int64]) { c.AllowedLateness = -1 },
		"nil source": func(c *analytics.Config[click, string, int64, int64]) { c.Sources = []shardlog.StreamAPI{nil} },
	} {
		cfg := r.countConfig(analytics.Tumbling(time.Minute))
		change(&cfg)
		_, err := analytics.New(cfg)
		require.ErrorIs(t, err, analytics.ErrInvalidConfig, name)
	}
	// A snapshot of other windows is not read as this job's.
	cfg := r.countConfig(analytics.Tumbling(time.Minute))
	j, stop := run(t, cfg)
	r.put(0, click{Page: "a", At: ms(10 * time.Second)})
	await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Events == 1 })
	require.NoError(t, stop())
	cfg.Window = analytics.Tumbling(time.Hour)
	j, err := analytics.New(cfg)
	require.NoError(t, err)
	err = j.Run(ctx)
	require.ErrorIs(t, err, analytics.ErrInvalidConfig)
	require.ErrorContains(t, err, "Tumbling(1m0s)")
	require.False(t, errors.Is(err, analytics.ErrSnapshotConflict))
}

// TestStandbyTakesOver: a second instance waits while the first runs, and
// takes over from its snapshot when it stops; an instance that stopped
// renewing the job's lease (a crash) is taken over after FailoverTime.
func TestStandbyTakesOver(t *testing.T) {
	r := newRig(t, 1)
	cfg := r.countConfig(analytics.Tumbling(time.Minute))
	cfg.WorkerID = "first"
	first, stopFirst := run(t, cfg)
	r.put(0, click{Page: "a", At: ms(10 * time.Second)})
	await(t, r.clk, first, 0, func(s analytics.Stats) bool { return s.Events == 1 })

	cfg.WorkerID = "second"
	second, _ := run(t, cfg)
	r.put(0, click{Page: "a", At: ms(20 * time.Second)})
	await(t, r.clk, first, 0, func(s analytics.Stats) bool { return s.Events == 2 })
	require.Zero(t, second.Stats().Events, "the standby reads nothing")
	require.NoError(t, stopFirst())

	r.put(0, click{Page: "a", At: ms(30 * time.Second)})
	r.put(0, click{Page: "x", At: ms(90 * time.Second)})
	// (The standby looks at the lease every FailoverTime/3, on the clock.)
	await(t, r.clk, second, time.Second, func(s analytics.Stats) bool { return s.Events == 2 })
	require.Equal(t, []row{{"a", 0, time.Minute, 3}}, rows(r.next(1)))

	// A lease its holder no longer renews is taken after FailoverTime.
	leases := r.acct.LeaseStore()
	cfg.Name = "other-job"
	require.NoError(t, leases.Swap(ctx, "analytics/other-job", nil, shardlog.Lease{Key: "job", Owner: "crashed"}))
	cfg.WorkerID = "third"
	third, _ := run(t, cfg)
	await(t, r.clk, third, time.Second, func(s analytics.Stats) bool { return s.Events == 4 })
	require.GreaterOrEqual(t, r.clk.Now().Sub(t0), 10*time.Second)
}

// TestKeysAndAccumulatorsNeedJSON: snapshots keep keys and accumulators as
// JSON, so New refuses types that have none, and a value that has none (an
// infinite key) fails the job with an error rather than a snapshot that
// cannot be read back. A NaN key, under which no window could be found
// again, is rejected.
func TestKeysAndAccumulatorsNeedJSON(t *testing.T) {
	r := newRig(t, 1)
	_, err := analytics.New(analytics.Config[click, chan int, int64, int64]{
		Name: "j", Sources: []shardlog.StreamAPI{r.s}, Store: r.store, Decode: decodeClick,
		Key: func(click) chan int { return nil }, Window: analytics.Tumbling(time.Minute), Aggregate: analytics.Count[click](),
		Output: analytics.OutputFunc[chan int, int64](func(context.Context, []analytics.Result[chan int, int64]) error { return nil }),
	})
	require.ErrorIs(t, err, analytics.ErrInvalidConfig)
	require.ErrorContains(t, err, "chan int")
	_, err = analytics.New(analytics.Config[click, string, func(), int64]{
		Name: "j", Sources: []shardlog.StreamAPI{r.s}, Store: r.store, Decode: decodeClick, Key: clickPage,
		Window: analytics.Tumbling(time.Minute),
		Aggregate: analytics.AggregateFuncs[click, func(), int64]{
			ZeroFunc: func() func() { return nil }, AddFunc: func(a func(), _ click) func() { return a },
			MergeFunc: func(a, _ func()) func() { return a }, ResultFunc: func(func()) int64 { return 0 },
		},
		Output: analytics.OutputFunc[string, int64](func(context.Context, []analytics.Result[string, int64]) error { return nil }),
	})
	require.ErrorIs(t, err, analytics.ErrInvalidConfig)

	rejected := make(chan error, 10)
	j, err := analytics.New(analytics.Config[click, float64, int64, int64]{
		Name: "inf", Sources: []shardlog.StreamAPI{r.s}, Store: r.store, Decode: decodeClick, EventTime: clickTime,
		Key: func(c click) float64 {
			if c.Page == "nan" {
				return math.NaN()
			}
			return math.Inf(1)
		},
		Rejected: func(_ shardlog.UserRecord, err error) { rejected <- err },
		Window:   analytics.Tumbling(time.Minute), Aggregate: analytics.Count[click](), Logger: quiet,
		Output: analytics.OutputFunc[float64, int64](func(context.Context, []analytics.Result[float64, int64]) error { return nil }),
	})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- j.Run(ctx) }()
	r.put(0, click{Page: "nan", At: ms(5 * time.Second)})
	r.put(0, click{Page: "a", At: ms(10 * time.Second)})
	r.put(0, click{Page: "a", At: ms(70 * time.Second)}) // fires the first minute: a snapshot is due
	select {
	case err := <-done:
		require.ErrorContains(t, err, "cannot be kept in a snapshot")
	case <-time.After(20 * time.Second):
		t.Fatalf("the job went on: %+v", j.Stats())
	}
	_, version, err := r.store.Load(ctx, "inf")
	require.NoError(t, err)
	require.Zero(t, version, "no snapshot was written")
	require.ErrorContains(t, <-rejected, "not equal to itself")
}

// runUntilStopped runs a counting job that has taken one event, until it
// stops by itself: done has Run's error.
func runUntilStopped(t *testing.T) (*rig, <-chan error) {
	r := newRig(t, 1)
	j, err := analytics.New(r.countConfig(analytics.Tumbling(time.Minute)))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- j.Run(ctx) }()
	r.put(0, click{Page: "a", At: ms(10 * time.Second)})
	await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Events == 1 })
	return r, done
}

// TestAnotherInstanceStopsTheJob: a job whose lease another instance took
// (it had stopped renewing it) stops with ErrJobTakenOver; one that finds
// a snapshot newer than its own stops with ErrSnapshotConflict. Neither
// runs on beside the other instance.
func TestAnotherInstanceStopsTheJob(t *testing.T) {
	t.Run("lease", func(t *testing.T) {
		r, done := runUntilStopped(t)
		leases := r.acct.LeaseStore()
		held, err := leases.Leases(ctx, "analytics/page-counts")
		require.NoError(t, err)
		require.Len(t, held, 1)
		taken := held[0]
		taken.Owner, taken.Counter = "another", taken.Counter+100
		require.NoError(t, leases.Swap(ctx, "analytics/page-counts", &held[0], taken))
		for {
			select {
			case err := <-done:
				require.ErrorIs(t, err, analytics.ErrJobTakenOver)
				return
			case <-time.After(time.Millisecond):
				r.clk.Advance(time.Second) // the next renewal finds the lease taken
			}
		}
	})
	t.Run("snapshot", func(t *testing.T) {
		r, done := runUntilStopped(t)
		data, version, err := r.store.Load(ctx, "page-counts")
		require.NoError(t, err)
		require.NoError(t, r.store.Save(ctx, "page-counts", version+1, data)) // as another instance would
		r.put(0, click{Page: "a", At: ms(70 * time.Second)})                  // fires: a snapshot is due
		select {
		case err := <-done:
			require.ErrorIs(t, err, analytics.ErrSnapshotConflict)
		case <-time.After(20 * time.Second):
			t.Fatal("the job went on")
		}
		require.Len(t, r.results, 0, "nothing emitted without its snapshot")
	})
}
