package shardlog_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

func TestSizeBoundDropsOldestFirst(t *testing.T) {
	var log bytes.Buffer
	a, clk := newAccount(t, shardlog.WithSizeBound(shardlog.SizeBound{Records: 5}), shardlog.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	s := newStream(t, a, "s", 2)
	hk := []string{"0", maxHash}
	for i := 0; i < 9; i++ {
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: hk[i%2], Data: []byte(fmt.Sprint(i))})
		require.NoError(t, err)
		clk.Advance(time.Second)
	}
	require.Equal(t, []string{"4", "6", "8"}, dataOf(readShard(t, s, shard0)))
	require.Equal(t, []string{"5", "7"}, dataOf(readShard(t, s, "shardId-000000000001")))
	require.Equal(t, shardlog.SizeBoundDrops{Records: 4, Bytes: 4 * int64(len("k0"))}, a.SizeBoundDrops(), "every drop counted")
	require.Equal(t, 4, strings.Count(log.String(), `msg="shardlog: dropped the oldest records for a size bound" bound="stream s"`), "and logged")

	b, _ := newAccount(t, shardlog.WithSizeBound(shardlog.SizeBound{Bytes: 1000}))
	u := newStream(t, b, "u", 3)
	for i := 0; i < 100; i++ {
		_, err := u.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: fmt.Sprint(i), Data: make([]byte, 99)}})
		require.NoError(t, err)
	}
	total := 0
	for _, id := range []string{shard0, "shardId-000000000001", "shardId-000000000002"} {
		for _, r := range readShard(t, u, id) {
			total += len(r.Data) + len(r.PartitionKey)
		}
	}
	require.LessOrEqual(t, total, 1000)
	require.Greater(t, total, 1000-110, "only what was needed went")
}

// TestAccountSizeBoundDropsOldestAcrossStreams: the account's bound drops
// the oldest records of the account, whichever stream holds them, down to
// a sixteenth below the bound.
func TestAccountSizeBoundDropsOldestAcrossStreams(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithAccountSizeBound(shardlog.SizeBound{Records: 32}))
	s, u := newStream(t, a, "s", 1), newStream(t, a, "u", 2)
	for i := 0; i < 40; i++ {
		put(t, []*shardlog.Stream{s, u}[i%2], fmt.Sprint("k", i), fmt.Sprint(i))
		clk.Advance(time.Second)
	}
	// Each time the account reaches 33 records its oldest three go (down to
	// 32 - 32/16 = 30): at the 33rd, 36th and 39th put. What remains is the
	// newest 31, from both streams.
	var got []string
	for _, st := range []*shardlog.Stream{s, u} {
		for r, err := range st.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
			require.NoError(t, err)
			got = append(got, string(r.Data))
		}
	}
	var want []string
	for i := 9; i < 40; i++ {
		want = append(want, fmt.Sprint(i))
	}
	require.ElementsMatch(t, want, got)

	// A stream's own bound still applies beside the account's.
	b, _ := newAccount(t, shardlog.WithAccountSizeBound(shardlog.SizeBound{Bytes: 1 << 20}), shardlog.WithSizeBound(shardlog.SizeBound{Records: 3}))
	v := newStream(t, b, "v", 1)
	for i := 0; i < 5; i++ {
		put(t, v, "k", fmt.Sprint(i))
	}
	require.Equal(t, []string{"2", "3", "4"}, dataOf(readShard(t, v, shard0)))
}

// TestDeletedStreamLeavesTheAccountBound: a deleted stream's records stop
// counting against the account's bound.
func TestDeletedStreamLeavesTheAccountBound(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithAccountSizeBound(shardlog.SizeBound{Records: 10}))
	s := newStream(t, a, "s", 1)
	for i := 0; i < 9; i++ {
		put(t, s, "k", fmt.Sprint(i))
	}
	require.NoError(t, a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}}))
	u := newStream(t, a, "u", 1)
	for i := 0; i < 10; i++ {
		put(t, u, "k", fmt.Sprint(i))
	}
	require.Len(t, readShard(t, u, shard0), 10, "nothing of u was dropped")
}
