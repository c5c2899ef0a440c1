package shardlog_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

// writeKeys puts n records spread over 13 keys, numbered per key from
// written, in the form newOrderChecker reads.
func writeKeys(t *testing.T, s *shardlog.Stream, written map[string]int, n int) {
	t.Helper()
	for i := range n {
		key := fmt.Sprint("key-", i%13)
		put(t, s, key, fmt.Sprintf("%s/%d", key, written[key]))
		written[key]++
	}
}

// readFrom reads the stream from pos with ReadAllFrom, advancing pos, and
// stops after max records (0: no limit). It returns how many it read.
func readFrom(t *testing.T, s *shardlog.Stream, pos *shardlog.Position, check *orderChecker, max int) int {
	t.Helper()
	n := 0
	for r, err := range s.ReadAllFrom(ctx, *pos) {
		require.NoError(t, err)
		check.see(r.Data)
		pos.Advance(r)
		if n++; n == max {
			break
		}
	}
	return n
}

// TestPositionResumesAcrossReshards: a saved position, resumed after
// splits and merges, reads exactly what was not read, each key in order.
func TestPositionResumesAcrossReshards(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 2)
	written := map[string]int{}
	writeKeys(t, s, written, 100)
	pos, err := s.Position(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	require.NoError(t, err)
	check := newOrderChecker(t)
	require.Equal(t, 60, readFrom(t, s, &pos, check, 60))

	saved, err := json.Marshal(pos)
	require.NoError(t, err)
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "12345678901234567890"})))
	writeKeys(t, s, written, 100)
	_, err = s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 5, ScalingType: shardlog.UniformScaling})
	require.NoError(t, err)
	writeKeys(t, s, written, 100)

	var resumed shardlog.Position
	require.NoError(t, json.Unmarshal(saved, &resumed))
	require.Equal(t, pos, resumed)
	require.Equal(t, 150, readFrom(t, s, &resumed, check, 150))
	_, err = s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 3, ScalingType: shardlog.UniformScaling})
	require.NoError(t, err)
	writeKeys(t, s, written, 100)
	require.Equal(t, 190, readFrom(t, s, &resumed, check, 0), "the rest, and nothing twice")
	require.Equal(t, 400, check.count())
	require.Zero(t, readFrom(t, s, &resumed, check, 0), "read to the end")
}

// TestPositionFromLatest names every open shard, those without records too:
// resuming reads only what came after.
func TestPositionFromLatest(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 4)
	written := map[string]int{}
	writeKeys(t, s, written, 3) // some shards stay empty
	pos, err := s.Position(ctx, shardlog.StartingPosition{Type: shardlog.Latest})
	require.NoError(t, err)
	require.Len(t, pos, 4)
	writeKeys(t, s, written, 26)

	check := newOrderChecker(t)
	for _, k := range []string{"key-0", "key-1", "key-2"} {
		check.next[k] = 1 // record 0 came before the position
	}
	require.Equal(t, 26, readFrom(t, s, &pos, check, 0))
}

// TestPositionRefusesForeignNumbers: a position must hold this stream's
// numbers, each under its own shard.
func TestPositionRefusesForeignNumbers(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 2)
	other := newStream(t, a, "other", 2)
	r0 := put(t, s, "k", "x")
	theirs := put(t, other, "k", "x")
	for name, pos := range map[string]shardlog.Position{
		"another stream's number": {theirs.ShardID: theirs.SequenceNumber},
		"under another shard":     {"shardId-000000000009": r0.SequenceNumber},
		"not a shard ID":          {"shard-0": r0.SequenceNumber},
	} {
		t.Run(name, func(t *testing.T) {
			n := 0
			for _, err := range s.ReadAllFrom(ctx, pos) {
				requireCode(t, err, shardlog.ErrInvalidArgument, "")
				n++
			}
			require.Equal(t, 1, n)
		})
	}
}

// TestPositionSurvivesARestart: a position saved before a durable account
// closes resumes after it reopens.
func TestPositionSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	open := func() *shardlog.Account {
		a, err := shardlog.NewAccount(shardlog.WithDir(dir), shardlog.WithClock(shardlog.NewManualClock(t0)), shardlog.WithoutLimits())
		require.NoError(t, err)
		return a
	}
	a := open()
	s := newStream(t, a, "s", 2)
	written := map[string]int{}
	writeKeys(t, s, written, 50)
	pos, err := s.Position(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	require.NoError(t, err)
	check := newOrderChecker(t)
	readFrom(t, s, &pos, check, 20)
	saved, err := json.Marshal(pos)
	require.NoError(t, err)
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "12345678901234567890"})))
	writeKeys(t, s, written, 50)
	require.NoError(t, a.Close())

	a = open()
	defer a.Close()
	s, err = a.Stream(shardlog.StreamRef{StreamName: "s"})
	require.NoError(t, err)
	var resumed shardlog.Position
	require.NoError(t, json.Unmarshal(saved, &resumed))
	require.Equal(t, 80, readFrom(t, s, &resumed, check, 0))
}

// TestZeroPositionAdvances: a Position declared and never made records
// what is read, rather than panic; resumed, it reads the rest.
func TestZeroPositionAdvances(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 2)
	written := map[string]int{}
	writeKeys(t, s, written, 20)
	var pos shardlog.Position
	check := newOrderChecker(t)
	require.NotPanics(t, func() { readFrom(t, s, &pos, check, 5) })
	require.NotEmpty(t, pos)
	writeKeys(t, s, written, 10)
	require.Equal(t, 25, readFrom(t, s, &pos, check, 0), "the rest, once each")
}
