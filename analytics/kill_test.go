//go:build unix

package analytics_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/analytics"
	"github.com/shardlog/shardlog/internal/testchild"
	"github.com/shardlog/shardlog/internal/testsize"
)

// The kill test's events: key i%7, at killBase + round hours + i·10 ms.
var killBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const killWindow = time.Second

// TestJobSurvivesKills runs a job on a durable account in a child
// process that also writes its events, and kills the child with SIGKILL
// at random moments, again and again; a last child moves the watermark
// past every event and runs until every window is out. The results stream,
// read with a Dedup, holds every window of the events the source stream
// holds, with the count computed from them, each once; a result written
// twice is the same result.
func TestJobSurvivesKills(t *testing.T) {
	if os.Getenv("SHARDLOG_ANALYTICS_DIR") != "" {
		t.Skip("this is the child")
	}
	for _, byKey := range []string{"", "by-partition-key"} {
		t.Run("mode="+byKey, func(t *testing.T) { checkJobSurvivesKills(t, byKey) })
	}
}

func checkJobSurvivesKills(t *testing.T, byKey string) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 28))
	rounds := testsize.Rounds(t, "SHARDLOG_ANALYTICS_KILLS", 20, 5)
	for round := range rounds {
		c := testchild.Start(t, "TestJobKillChild", "SHARDLOG_ANALYTICS_DIR="+dir, fmt.Sprint("SHARDLOG_ANALYTICS_ROUND=", round), "SHARDLOG_ANALYTICS_BYKEY="+byKey)
		for n := 0; ; n++ {
			_, ok := <-c.Lines
			require.True(t, ok, "the child ended before it was killed")
			if n > 5 && r.IntN(30) == 0 {
				break
			}
		}
		c.Kill(t, nil)
	}
	c := testchild.Start(t, "TestJobKillChild", "SHARDLOG_ANALYTICS_DIR="+dir, fmt.Sprint("SHARDLOG_ANALYTICS_ROUND=", rounds), "SHARDLOG_ANALYTICS_DRAIN=1", "SHARDLOG_ANALYTICS_BYKEY="+byKey)
	require.NoError(t, c.Wait(nil), "the last child emits every window and exits")

	acct, err := shardlog.NewAccount(shardlog.WithDir(filepath.Join(dir, "data")), shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
	require.NoError(t, err)
	defer acct.Close()
	src, err := acct.Stream(shardlog.StreamRef{StreamName: "events"})
	require.NoError(t, err)
	out, err := acct.Stream(shardlog.StreamRef{StreamName: "results"})
	require.NoError(t, err)

	want := map[string]int64{} // "key start" → count
	events := 0
	for _, data := range readAll(t, src) {
		e, err := decodeTick(shardlog.UserRecord{Record: shardlog.Record{Data: data}})
		require.NoError(t, err)
		if e.key == 999 {
			continue // the last child's watermark events
		}
		events++
		want[fmt.Sprint(e.key, " ", time.Unix(0, e.at).Truncate(killWindow).UTC().Format(time.RFC3339Nano))]++
	}
	got := map[string]int64{}
	seen := map[string]analytics.Result[uint32, int64]{}
	d := analytics.NewDedup(0)
	written := 0
	for _, data := range readAll(t, out) {
		var res analytics.Result[uint32, int64]
		require.NoError(t, json.Unmarshal(data, &res))
		written++
		if !d.First(res.ID, res.End) {
			require.Equal(t, seen[res.ID], res, "a result written again is the same result")
			continue
		}
		seen[res.ID] = res
		if res.Key == 999 {
			continue
		}
		got[fmt.Sprint(res.Key, " ", res.Start.Format(time.RFC3339Nano))] += res.Value
	}
	require.Equal(t, want, got, "every window once, with the count of its events")
	require.NotZero(t, events)
	t.Logf("%d rounds killed, %d events, %d windows, %d results written (%d again after a kill)", rounds, events, len(want), written, written-len(seen))
}

func readAll(t *testing.T, s *shardlog.Stream) [][]byte {
	t.Helper()
	var all [][]byte
	shards, err := s.ListShards(ctx, shardlog.ListShardsInput{})
	require.NoError(t, err)
	for _, sh := range shards.Shards {
		it, err := s.GetShardIterator(ctx, sh.ShardID, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
		require.NoError(t, err)
		for {
			got, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
			require.NoError(t, err)
			for _, r := range got.Records {
				all = append(all, r.Data)
			}
			if len(got.Records) == 0 {
				break
			}
			it = got.NextShardIterator
		}
	}
	return all
}

// TestJobKillChild is TestJobSurvivesKills's child: it writes its
// round's events while the job counts them per key and second into the
// stream "results", printing a line every few milliseconds; in drain mode
// it writes an event far ahead on each shard and runs until the watermark
// has passed them and every result is out.
func TestJobKillChild(t *testing.T) {
	dir := os.Getenv("SHARDLOG_ANALYTICS_DIR")
	if dir == "" {
		t.Skip("run by TestJobSurvivesKills")
	}
	var round int
	fmt.Sscan(os.Getenv("SHARDLOG_ANALYTICS_ROUND"), &round)
	byKey := os.Getenv("SHARDLOG_ANALYTICS_BYKEY") != "" // keys follow partition keys: each shard's windows apart
	acct, err := shardlog.NewAccount(shardlog.WithDir(filepath.Join(dir, "data")), shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
	require.NoError(t, err)
	defer acct.Close()
	open := func(name string) *shardlog.Stream {
		s, err := acct.Stream(shardlog.StreamRef{StreamName: name})
		if err != nil {
			s, err = acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: name, ShardCount: 2})
		}
		require.NoError(t, err)
		return s
	}
	src, out := open("events"), open("results")
	j, err := analytics.New(analytics.Config[tick, uint32, int64, int64]{
		Name: "kill", Sources: []shardlog.StreamAPI{src}, Store: analytics.DirStore(filepath.Join(dir, "snapshots")),
		Decode: decodeTick, Key: tickKey, EventTime: tickTime, IdleTimeout: time.Hour,
		Window: analytics.Tumbling(killWindow), Aggregate: analytics.Count[tick](),
		Output: analytics.StreamOutput[uint32, int64](out), WorkerID: "worker",
		ByPartitionKey:   byKey,
		SnapshotInterval: 50 * time.Millisecond, Logger: quiet,
	})
	require.NoError(t, err)
	run, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- j.Run(run) }()
	event := func(key uint32, at time.Time) []byte {
		data := make([]byte, 12)
		binary.BigEndian.PutUint32(data, key)
		binary.BigEndian.PutUint64(data[4:], uint64(at.UnixNano()))
		return data
	}
	start := killBase.Add(time.Duration(round) * time.Hour) // a round writes less than an hour of events
	if os.Getenv("SHARDLOG_ANALYTICS_DRAIN") != "" {
		for _, hashKey := range []string{"0", "170141183460469231731687303715884105728"} {
			_, err := src.Put(ctx, shardlog.PutInput{PartitionKey: "w", Data: event(999, start.Add(time.Hour)), ExplicitHashKey: hashKey})
			require.NoError(t, err)
		}
		for s := j.Stats(); s.Watermark.Before(start.Add(time.Hour)) || s.Pending > 0; s = j.Stats() {
			time.Sleep(10 * time.Millisecond) // the child's poll, in real time
		}
		stop()
		require.NoError(t, <-done)
		return
	}
	for i := 0; ; i++ {
		batch := make([]shardlog.PutInput, 0, 50)
		for k := range 50 {
			n := i*50 + k
			pk := fmt.Sprint(n)
			if byKey {
				pk = fmt.Sprint("key-", n%7)
			}
			batch = append(batch, shardlog.PutInput{PartitionKey: pk, Data: event(uint32(n%7), start.Add(time.Duration(n)*10*time.Millisecond))})
		}
		// One batch at a time, in event-time order on each shard: no
		// event is late.
		res, err := src.PutBatch(ctx, batch)
		require.NoError(t, err)
		require.Zero(t, res.FailedRecordCount)
		s := j.Stats()
		fmt.Println(strings.Join([]string{"events", fmt.Sprint(s.Events), "results", fmt.Sprint(s.Results)}, " "))
		time.Sleep(2 * time.Millisecond) // paces the writes, so the job keeps up
	}
}
