package analytics_test

import (
	"errors"
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
