package analytics_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/analytics"
	"github.com/shardlog/shardlog/internal/testsize"
)

var errCrashed = errors.New("crashed")

// crashable is a store and an output that stop taking anything at once
// when crash is called, as a process killed at that moment would: what
// they took before stays, what comes after is lost.
type crashable struct {
	inner   analytics.Store
	mu      sync.Mutex
	down    bool                                       // guarded by mu
	out     []analytics.Result[string, int64]          // guarded by mu: every result emitted, duplicates too
	seen    map[string]analytics.Result[string, int64] // guarded by mu
	dups    int                                        // guarded by mu
	t       *testing.T
	emitted chan struct{} // a token after each Emit
}

func (c *crashable) Load(ctx context.Context, job string) ([]byte, int64, error) {
	return c.inner.Load(ctx, job)
}

func (c *crashable) Save(ctx context.Context, job string, version int64, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return errCrashed
	}
	return c.inner.Save(ctx, job, version, data)
}

func (c *crashable) Emit(_ context.Context, rs []analytics.Result[string, int64]) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.down {
		return errCrashed
	}
	for _, r := range rs {
		if old, ok := c.seen[r.ID]; ok {
			// The same ID again: it must be the same result.
			if old.Key != r.Key || !old.Start.Equal(r.Start) || !old.End.Equal(r.End) || old.Value != r.Value {
				c.t.Errorf("result %s emitted as %v, then as %v", r.ID, old, r)
			}
			c.dups++
			continue
		}
		c.seen[r.ID] = r
		c.out = append(c.out, r)
	}
	select {
	case c.emitted <- struct{}{}:
	default:
	}
	return nil
}

func (c *crashable) crash()   { c.mu.Lock(); c.down = true; c.mu.Unlock() }
func (c *crashable) restart() { c.mu.Lock(); c.down = false; c.mu.Unlock() }

func (c *crashable) results() []analytics.Result[string, int64] {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.out)
}

// reference computes every window of events from the full list.
func reference(w string, size, slide, gap time.Duration, events []click) map[row]bool {
	want := map[row]bool{}
	byKey := map[string][]int64{}
	for _, e := range events {
		byKey[e.Page] = append(byKey[e.Page], e.At)
	}
	for k, ts := range byKey {
		slices.Sort(ts)
		switch w {
		case "session":
			i := 0
			for i < len(ts) {
				startT, end, n := ts[i], ts[i]+gap.Milliseconds(), int64(0)
				for i < len(ts) && ts[i] < end {
					end = max(end, ts[i]+gap.Milliseconds())
					n++
					i++
				}
				want[row{k, time.UnixMilli(startT).Sub(t0), time.UnixMilli(end).Sub(t0), n}] = true
			}
		default:
			counts := map[int64]int64{} // window start → count
			for _, t := range ts {
				for s := t - t%slide.Milliseconds(); s > t-size.Milliseconds(); s -= slide.Milliseconds() {
					counts[s]++
				}
			}
			for s, n := range counts {
				want[row{k, time.UnixMilli(s).Sub(t0), time.UnixMilli(s + size.Milliseconds()).Sub(t0), n}] = true
			}
		}
	}
	return want
}

// TestAgainstReference: for random event-time disorder, windows, splits,
// merges and crashes at random moments, the results at a deduplicating
// output are the windows computed from the full event list, each once,
// and a result emitted again is the same result.
func TestAgainstReference(t *testing.T) {
	for _, w := range []string{"tumbling", "hopping", "session"} {
		for seed := range uint64(testsize.Rounds(t, "SHARDLOG_ANALYTICS_SEEDS", 25, 4)) {
			t.Run(fmt.Sprintf("%s/%d", w, seed), func(t *testing.T) { checkAgainstReference(t, w, seed, false) })
		}
	}
}

// TestAgainstReferenceByPartitionKey is TestAgainstReference for a job
// keyed by partition key, run by two instances at once that share the
// shards (and crash together).
func TestAgainstReferenceByPartitionKey(t *testing.T) {
	for _, w := range []string{"tumbling", "hopping", "session"} {
		for seed := range uint64(testsize.Rounds(t, "SHARDLOG_ANALYTICS_SEEDS", 25, 4)) {
			t.Run(fmt.Sprintf("%s/%d", w, seed), func(t *testing.T) { checkAgainstReference(t, w, seed, true) })
		}
	}
}

func checkAgainstReference(t *testing.T, kind string, seed uint64, byKey bool) {
	rng := rand.New(rand.NewPCG(seed, 99))
	r := newRig(t, 1+rng.IntN(3))
	const ooo = 20 * time.Second
	size, slide, gap := time.Minute, time.Minute, 30*time.Second
	var w analytics.Window
	switch kind {
	case "tumbling":
		w = analytics.Tumbling(size)
	case "hopping":
		slide = 20 * time.Second
		w = analytics.Hopping(size, slide)
	case "session":
		w = analytics.Session(gap)
	}
	// Allowed lateness, from none to a minute: events are up to ooo plus
	// the lateness behind the latest, so some are behind the watermark, and
	// still in time for their windows.
	lateness := time.Duration(rng.IntN(4)) * 20 * time.Second
	var restart func() func() error
	var secondJob *analytics.Job[click, string, int64, int64] // with byKey: the last second instance
	c := &crashable{inner: analytics.MemoryStore(), seen: map[string]analytics.Result[string, int64]{}, t: t, emitted: make(chan struct{}, 1)}
	cfg := r.countConfig(w)
	cfg.Store, cfg.Output, cfg.MaxOutOfOrderness, cfg.AllowedLateness = c, c, ooo, lateness
	cfg.WorkerID = "worker"
	cfg.ByPartitionKey = byKey
	stop := start(t, cfg)
	if byKey {
		second := cfg
		second.WorkerID = "second"
		j2, stopSecond := run(t, second)
		stopFirst := stop
		stop = func() error { return errors.Join(stopFirst(), stopSecond()) }
		restartBoth := func() func() error {
			a := start(t, cfg)
			j2, b := run(t, second)
			secondJob = j2
			return func() error { return errors.Join(a(), b()) }
		}
		secondJob = j2
		restart = restartBoth
	}

	var events []click
	walk := int64(0) // milliseconds after t0: the latest event time so far
	max128 := new(big.Int).Lsh(big.NewInt(1), 128)
	put := func(page string, at int64) {
		data, _ := json.Marshal(click{Page: page, At: t0.UnixMilli() + at})
		key := new(big.Int).Rsh(new(big.Int).SetUint64(rng.Uint64()), 0)
		key.Lsh(key, 64).Or(key, new(big.Int).SetUint64(rng.Uint64())).Mod(key, max128)
		in := shardlog.PutInput{PartitionKey: "k", Data: data, ExplicitHashKey: key.String()}
		if byKey {
			in = shardlog.PutInput{PartitionKey: page, Data: data}
		}
		_, err := r.s.Put(ctx, in)
		require.NoError(t, err)
	}
	n := 400 + rng.IntN(400)
	for range n {
		// Time moves on by up to 4 s; an event is up to ooo + lateness
		// behind the walk, so never behind any shard's watermark by more
		// than the lateness: none is too late for its windows.
		walk += rng.Int64N(4000)
		at := walk - rng.Int64N((ooo+lateness).Milliseconds()+1)
		page := fmt.Sprintf("p%d", rng.IntN(8))
		put(page, at)
		events = append(events, click{Page: page, At: t0.UnixMilli() + at})
		if len(events)%50 == 0 {
			r.clk.Advance(0) // lets leases move between workers
		}
		switch x := rng.IntN(n); {
		case x < 3: // split an open shard
			out, err := r.s.ListShards(ctx, shardlog.ListShardsInput{ShardFilter: shardlog.ShardFilter{Type: shardlog.FilterAtLatest}})
			require.NoError(t, err)
			if len(out.Shards) < 6 {
				sh := out.Shards[rng.IntN(len(out.Shards))]
				_, err = r.s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: sh.ShardID, NewStartingHashKey: sh.HashKeyRange.Midpoint()})
				require.NoError(t, err)
			}
		case x < 6: // merge two adjacent open shards
			out, err := r.s.ListShards(ctx, shardlog.ListShardsInput{ShardFilter: shardlog.ShardFilter{Type: shardlog.FilterAtLatest}})
			require.NoError(t, err)
			if len(out.Shards) > 1 {
				slices.SortFunc(out.Shards, func(a, b shardlog.Shard) int {
					x, _ := new(big.Int).SetString(a.HashKeyRange.StartingHashKey, 10)
					y, _ := new(big.Int).SetString(b.HashKeyRange.StartingHashKey, 10)
					return x.Cmp(y)
				})
				i := rng.IntN(len(out.Shards) - 1)
				_, err = r.s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: out.Shards[i].ShardID, AdjacentShardToMerge: out.Shards[i+1].ShardID})
				require.NoError(t, err)
			}
		case x < 9: // crash and restart
			c.crash()
			_ = stop()
			c.restart()
			if restart != nil {
				stop = restart()
			} else {
				stop = start(t, cfg)
			}
		}
	}
	// Events far ahead on every open shard close every window.
	out, err := r.s.ListShards(ctx, shardlog.ListShardsInput{ShardFilter: shardlog.ShardFilter{Type: shardlog.FilterAtLatest}})
	require.NoError(t, err)
	for _, sh := range out.Shards {
		data, _ := json.Marshal(click{Page: "~tick", At: t0.UnixMilli() + walk + int64(time.Hour/time.Millisecond)})
		_, err := r.s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: data, ExplicitHashKey: sh.HashKeyRange.StartingHashKey})
		require.NoError(t, err)
	}
	want := reference(kind, size, slide, gap, events)
	var got map[row]bool
	guard := time.After(20 * time.Second)
	nudges := time.NewTicker(time.Millisecond)
	defer nudges.Stop()
	for waiting := true; waiting; {
		got = map[row]bool{}
		for _, x := range c.results() {
			if x.Key != "~tick" {
				got[row{x.Key, x.Start.Sub(t0), x.End.Sub(t0), x.Value}] = true
			}
		}
		if len(got) >= len(want) {
			break
		}
		select {
		case <-c.emitted:
		case <-nudges.C:
			// Leases handed between two workers go on timers due now,
			// which fire when the clock is moved, if only by nothing.
			r.clk.Advance(0)
		case <-guard:
			waiting = false
		}
	}
	require.NoError(t, stop())
	if len(want) != len(got) {
		for x := range want {
			if !got[x] {
				t.Logf("missing %v", x)
			}
		}
		for x := range got {
			if !want[x] {
				t.Logf("extra %v", x)
			}
		}
	}
	require.Equal(t, len(want), len(got), "results (lateness %v)", lateness)
	for x := range want {
		require.True(t, got[x], "missing %v of %v", x, len(events))
	}
	t.Logf("%d events, %d windows, %d results emitted again", len(events), len(want), c.dups)
	if secondJob != nil {
		t.Logf("the second instance's last run added %d events to windows", secondJob.Stats().Events)
	}
}
