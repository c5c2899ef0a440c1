package analytics_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/analytics"
)

type row struct {
	Key        string
	Start, End time.Duration // from t0
	Value      int64
}

func rows(rs []analytics.Result[string, int64]) []row {
	out := make([]row, len(rs))
	for i, r := range rs {
		out[i] = row{r.Key, r.Start.Sub(t0), r.End.Sub(t0), r.Value}
	}
	slices.SortFunc(out, func(a, b row) int {
		if c := a.Start - b.Start; c != 0 {
			return int(c / time.Millisecond)
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// TestTumblingCountsInEventTime: each page's clicks per minute, across two
// shards, fire when both shards' watermarks pass the minute.
func TestTumblingCountsInEventTime(t *testing.T) {
	r := newRig(t, 2)
	start(t, r.countConfig(analytics.Tumbling(time.Minute)))
	r.put(0, click{Page: "a", At: ms(10 * time.Second)})
	r.put(0, click{Page: "b", At: ms(20 * time.Second)})
	r.put(0, click{Page: "a", At: ms(65 * time.Second)})
	r.put(1, click{Page: "a", At: ms(50 * time.Second)})
	r.put(1, click{Page: "a", At: ms(30 * time.Second)})
	r.put(1, click{Page: "b", At: ms(70 * time.Second)})
	r.put(0, click{Page: "x", At: ms(150 * time.Second)}) // shard 0 past minute 2; shard 1 holds the watermark
	r.put(1, click{Page: "x", At: ms(150 * time.Second)})
	got := rows(r.next(4))
	require.Equal(t, []row{
		{"a", 0, time.Minute, 3}, {"b", 0, time.Minute, 1},
		{"a", time.Minute, 2 * time.Minute, 1}, {"b", time.Minute, 2 * time.Minute, 1},
	}, got)
}

// TestLateEventsAndAllowedLateness: an event behind the watermark for
// every window it is in goes to Late and counts nowhere; allowed lateness
// keeps a window open for it. The watermark moves between batches.
func TestLateEventsAndAllowedLateness(t *testing.T) {
	for _, lateness := range []time.Duration{0, 30 * time.Second} {
		t.Run(lateness.String(), func(t *testing.T) {
			r := newRig(t, 1)
			late := make(chan analytics.LateEvent[click], 10)
			cfg := r.countConfig(analytics.Tumbling(time.Minute))
			cfg.AllowedLateness = lateness
			cfg.Late = func(e analytics.LateEvent[click]) { late <- e }
			j, _ := run(t, cfg)
			events := int64(0)
			put := func(at time.Duration) {
				r.put(0, click{Page: "a", At: ms(at)})
				events++
				await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Events+s.Late == events })
			}
			put(70 * time.Second)
			put(30 * time.Second) // behind the watermark (70 s)
			put(95 * time.Second)
			put(50 * time.Second) // too late even with 30 s
			if lateness == 0 {
				e := <-late
				require.Equal(t, ms(30*time.Second), e.Event.At)
				require.Equal(t, t0.Add(70*time.Second), e.Watermark)
				require.Equal(t, "clicks/shardId-000000000000", e.ShardID)
				require.Equal(t, ms(50*time.Second), (<-late).Event.At)
				put(200 * time.Second)
				require.Equal(t, []row{{"a", time.Minute, 2 * time.Minute, 2}}, rows(r.next(1)))
				require.Equal(t, int64(2), j.Stats().Late)
				return
			}
			// The window [0, 1m) fired at 95 s = its end + 30 s, with the 30 s event.
			require.Equal(t, []row{{"a", 0, time.Minute, 1}}, rows(r.next(1)))
			require.Equal(t, ms(50*time.Second), (<-late).Event.At)
		})
	}
}

// TestIdleShardStopsHoldingTheWatermark: a shard without records holds the
// job's watermark back until it has been idle for IdleTimeout.
func TestIdleShardStopsHoldingTheWatermark(t *testing.T) {
	r := newRig(t, 2)
	cfg := r.countConfig(analytics.Tumbling(time.Minute))
	cfg.IdleTimeout = 30 * time.Second
	j, _ := run(t, cfg)
	r.put(0, click{Page: "a", At: ms(10 * time.Second)})
	r.put(0, click{Page: "a", At: ms(70 * time.Second)})
	await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Events == 2 })
	require.True(t, j.Stats().Watermark.IsZero(), "shard 1 holds the watermark back")
	r.put(0, click{Page: "a", At: ms(20 * time.Second)}) // not late: shard 1 held the watermark
	await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Events == 3 })
	await(t, r.clk, j, time.Second, func(s analytics.Stats) bool { return s.Watermark.Equal(t0.Add(70 * time.Second)) })
	require.Equal(t, []row{{"a", 0, time.Minute, 2}}, rows(r.next(1)))
	// Shard 1 has records again: it holds the watermark once more.
	// (The clock moves on so that the group, whose leases the steps above
	// may have timed out, takes them back.)
	r.put(1, click{Page: "b", At: ms(80 * time.Second)})
	await(t, r.clk, j, time.Second, func(s analytics.Stats) bool { return s.Events == 4 })
	r.put(0, click{Page: "a", At: ms(150 * time.Second)})
	await(t, r.clk, j, time.Second, func(s analytics.Stats) bool { return s.Events == 5 })
	require.Equal(t, t0.Add(80*time.Second), j.Stats().Watermark)
	r.put(1, click{Page: "b", At: ms(150 * time.Second)})
	require.Equal(t, []row{{"a", time.Minute, 2 * time.Minute, 1}, {"b", time.Minute, 2 * time.Minute, 1}}, rows(r.next(2)))
}

// TestProcessingTime: without EventTime, an event is in the window of the
// moment it is read, and windows close as the clock passes them.
func TestProcessingTime(t *testing.T) {
	r := newRig(t, 1)
	cfg := r.countConfig(analytics.Tumbling(time.Minute))
	cfg.EventTime = nil
	j, _ := run(t, cfg)
	r.put(0, click{Page: "a"})
	r.put(0, click{Page: "a"})
	await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Events == 2 })
	_, err := r.s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("not json")})
	require.NoError(t, err)
	await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Rejected == 1 })
	r.clk.Advance(59 * time.Second)
	r.put(0, click{Page: "a"}) // read at 59 s
	await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Events == 3 })
	r.clk.Advance(time.Second)
	require.Equal(t, []row{{"a", 0, time.Minute, 3}}, rows(r.next(1)))
	require.Equal(t, t0.Add(time.Minute), j.Stats().Watermark)
}

// TestSessionWindows: a session closes gap after its last event; an event
// that bridges two sessions merges them.
func TestSessionWindows(t *testing.T) {
	r := newRig(t, 1)
	cfg := r.countConfig(analytics.Session(30 * time.Second))
	cfg.MaxOutOfOrderness = time.Minute
	start(t, cfg)
	for _, c := range []click{
		{Page: "a", At: ms(0)}, {Page: "a", At: ms(20 * time.Second)}, {Page: "a", At: ms(45 * time.Second)},
		{Page: "b", At: ms(0)}, {Page: "b", At: ms(50 * time.Second)}, {Page: "b", At: ms(25 * time.Second)},
		{Page: "a", At: ms(200 * time.Second)},
		{Page: "c", At: ms(300 * time.Second)}, // watermark 240 s
	} {
		r.put(0, c)
	}
	require.Equal(t, []row{
		{"a", 0, 75 * time.Second, 3},
		{"b", 0, 80 * time.Second, 3},
		{"a", 200 * time.Second, 230 * time.Second, 1},
	}, rows(r.next(3)))
}

// TestHoppingWindows: an event is in every window that holds its time.
func TestHoppingWindows(t *testing.T) {
	r := newRig(t, 1)
	start(t, r.countConfig(analytics.Hopping(time.Minute, 20*time.Second)))
	r.put(0, click{Page: "a", At: ms(30 * time.Second)})
	r.put(0, click{Page: "a", At: ms(50 * time.Second)})
	r.put(0, click{Page: "a", At: ms(200 * time.Second)})
	require.Equal(t, []row{
		{"a", -20 * time.Second, 40 * time.Second, 1},
		{"a", 0, time.Minute, 2},
		{"a", 20 * time.Second, 80 * time.Second, 2},
		{"a", 40 * time.Second, 100 * time.Second, 1},
	}, rows(r.next(4)))
}

// TestTwoSources: a job reads two streams as one: a key's windows count its
// events of both, and the watermark is the least of all their shards'.
func TestTwoSources(t *testing.T) {
	r := newRig(t, 1)
	eu, err := r.acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "clicks-eu", ShardCount: 1})
	require.NoError(t, err)
	cfg := r.countConfig(analytics.Tumbling(time.Minute))
	cfg.Sources = append(cfg.Sources, eu)
	j, _ := run(t, cfg)
	putEU := func(c click) {
		data, err := json.Marshal(c)
		require.NoError(t, err)
		_, err = eu.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: data})
		require.NoError(t, err)
	}
	r.put(0, click{Page: "a", At: ms(10 * time.Second)})
	putEU(click{Page: "a", At: ms(20 * time.Second)})
	r.put(0, click{Page: "x", At: ms(90 * time.Second)})
	await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Events == 3 })
	require.Equal(t, t0.Add(20*time.Second), j.Stats().Watermark, "clicks-eu holds the watermark")
	putEU(click{Page: "a", At: ms(30 * time.Second)})
	putEU(click{Page: "x", At: ms(90 * time.Second)})
	require.Equal(t, []row{{"a", 0, time.Minute, 3}}, rows(r.next(1)))
}

// TestLaterStartIgnoresClosedShards: a new job starting at a timestamp
// waits only for the shards open then, not for closed ones it will never
// read.
func TestLaterStartIgnoresClosedShards(t *testing.T) {
	r := newRig(t, 1)
	out, err := r.s.ListShards(ctx, shardlog.ListShardsInput{})
	require.NoError(t, err)
	_, err = r.s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: out.Shards[0].ShardID, NewStartingHashKey: out.Shards[0].HashKeyRange.Midpoint()})
	require.NoError(t, err)
	r.clk.Advance(time.Second)
	cfg := r.countConfig(analytics.Tumbling(time.Minute))
	cfg.InitialPosition = shardlog.StartingPosition{Type: shardlog.AtTimestamp, Timestamp: r.clk.Now()}
	j, _ := run(t, cfg)
	r.put(0, click{Page: "a", At: ms(10 * time.Second)})
	r.put(1, click{Page: "a", At: ms(20 * time.Second)})
	r.put(0, click{Page: "x", At: ms(90 * time.Second)})
	r.put(1, click{Page: "x", At: ms(90 * time.Second)})
	await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Events == 4 })
	require.Equal(t, []row{{"a", 0, time.Minute, 2}}, rows(r.next(1)))
}

// TestByPartitionKeyStats: with ByPartitionKey the job's counters add up
// its shards', and its watermark is the least of theirs.
func TestByPartitionKeyStats(t *testing.T) {
	r := newRig(t, 2)
	cfg := r.countConfig(analytics.Tumbling(time.Minute))
	cfg.ByPartitionKey = true
	j, _ := run(t, cfg)
	r.put(0, click{Page: "a", User: "a", At: ms(10 * time.Second)})
	r.put(1, click{Page: "b", User: "b", At: ms(20 * time.Second)})
	r.put(1, click{Page: "b", User: "b", At: ms(70 * time.Second)})
	await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Events == 3 })
	await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Results == 1 }) // b's first minute: its shard is past it
	s := j.Stats()
	require.Equal(t, 2, s.Windows, "a's first minute and b's second")
	require.Equal(t, t0.Add(10*time.Second), s.Watermark, "the least of the shards'")
	require.Equal(t, []row{{"b", 0, time.Minute, 1}}, rows(r.next(1)))
}
