package shardlog_test

import (
	"context"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

func TestReadAllFollowsLineage(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	written := map[string]int{}
	write := func(n int) {
		for i := 0; i < n; i++ {
			key := fmt.Sprint("key-", i%13)
			put(t, s, key, fmt.Sprintf("%s/%d", key, written[key]))
			written[key]++
		}
	}
	write(100)
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "12345678901234567890"})))
	write(100)
	_, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 5, ScalingType: shardlog.UniformScaling})
	require.NoError(t, err)
	write(100)
	_, err = s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 3, ScalingType: shardlog.UniformScaling})
	require.NoError(t, err)
	write(100)

	check := newOrderChecker(t)
	for r, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err)
		check.see(r.Data)
	}
	require.Equal(t, 400, check.count())

	// LATEST starts after everything written so far.
	clk.Advance(time.Second)
	n := 0
	for _, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.Latest}) {
		require.NoError(t, err)
		n++
	}
	require.Zero(t, n)

	// AT_TIMESTAMP starts with the shards open then.
	mark := clk.Now()
	write(26)
	n = 0
	for _, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.AtTimestamp, Timestamp: mark}) {
		require.NoError(t, err)
		n++
	}
	require.Equal(t, 26, n)

	for _, bad := range []shardlog.IteratorType{shardlog.AtSequenceNumber, "NOPE"} {
		_, err := collect(t, s.ReadAll(ctx, shardlog.StartingPosition{Type: bad}))
		requireCode(t, err, shardlog.ErrInvalidArgument, "")
	}
}

// TestTailAllWhileResharding runs producers while another goroutine
// reshards in a loop; the lineage-aware tail reader sees every record
// exactly once and each key in order. Run with -race.
func TestTailAllWhileResharding(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithShardLimit(1000))
	s := newStream(t, a, "s", 2)
	const producers, perProducer = 4, 1500

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	check := newOrderChecker(t)
	readerDone := make(chan error, 1)
	started := make(chan struct{})
	put(t, s, "start", "start/0")
	go func() {
		defer close(started)
		for r, err := range s.TailAll(cctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
			if err != nil {
				readerDone <- err
				return
			}
			if string(r.Data) == "start/0" {
				started <- struct{}{}
				continue
			}
			check.see(r.Data)
			if check.count() == producers*perProducer {
				cancel()
			}
		}
		readerDone <- nil
	}()

	<-started // the reader is running before any reshard or clock change
	var stop atomic.Bool
	reshards := 0
	resharderDone := make(chan struct{})
	halfway := make(chan struct{}) // closed after four reshards; producers wait for it midway
	go func() {
		defer close(resharderDone)
		defer func() {
			if reshards < 4 {
				close(halfway)
			}
		}()
		// Eight shard-count updates two hours apart stay within the daily
		// quota and within retention; splits and merges need no clock.
		targets := []int{4, 3, 6, 5, 8, 4, 2, 3}
		// Failures are reported with t.Error, not require: FailNow must run
		// on the test's goroutine.
		for i := 0; !stop.Load(); i++ {
			if i < len(targets) {
				if _, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: targets[i], ScalingType: shardlog.UniformScaling}); err != nil {
					t.Error(err)
					return
				}
				clk.Advance(2 * time.Hour)
				if reshards++; reshards == 4 {
					close(halfway)
				}
				continue
			}
			page, err := s.ListShards(ctx, shardlog.ListShardsInput{ShardFilter: shardlog.ShardFilter{Type: shardlog.FilterAtLatest}})
			if err != nil {
				t.Error(err)
				return
			}
			open := page.Shards
			sh := open[i%len(open)]
			if i%2 == 0 && len(open) < 12 {
				lo, hi := bigOf(sh.HashKeyRange.StartingHashKey), bigOf(sh.HashKeyRange.EndingHashKey)
				mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
				if _, err := s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: sh.ShardID, NewStartingHashKey: mid.String()}); err != nil {
					t.Error(err)
					return
				}
				reshards++
				continue
			}
			for _, o := range open {
				if new(big.Int).Add(bigOf(sh.HashKeyRange.EndingHashKey), big.NewInt(1)).Cmp(bigOf(o.HashKeyRange.StartingHashKey)) == 0 {
					if _, err := s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: sh.ShardID, AdjacentShardToMerge: o.ShardID}); err != nil {
						t.Error(err)
						return
					}
					reshards++
					break
				}
			}
		}
	}()

	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perProducer; i++ {
				if i == perProducer/2 {
					<-halfway // so that reshards interleave with writes however fast they are
				}
				key := fmt.Sprintf("p%d-k%d", p, i%7)
				data := fmt.Sprintf("%s/%d", key, i/7)
				if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: key, Data: []byte(data)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	<-resharderDone
	require.ErrorIs(t, <-readerDone, context.Canceled)
	require.Equal(t, producers*perProducer, check.count())
	require.GreaterOrEqual(t, reshards, 4)
	t.Logf("%d records, %d reshards, %d shards", check.count(), reshards, len(listAll(t, s, shardlog.ShardFilter{})))
}

// TestDeepMergeLineage: a part of the stream split and merged again and
// again makes a lineage of diamonds, which a walk of every path would take
// exponential time over; reading from a position that names only another
// part returns at once.
func TestDeepMergeLineage(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 2)
	shards, err := s.ListShards(ctx, shardlog.ListShardsInput{})
	require.NoError(t, err)
	lower, upper := shards.Shards[0], shards.Shards[1]
	out, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: upper.HashKeyRange.StartingHashKey, Data: []byte("upper")})
	require.NoError(t, err)
	require.Equal(t, upper.ShardID, out.ShardID)
	open := lower
	for range 60 { // 2^60 paths through the diamonds
		mid := open.HashKeyRange.Midpoint()
		kids, err := s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: open.ShardID, NewStartingHashKey: mid})
		require.NoError(t, err)
		merged, err := s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: kids.ChildShardIDs[0], AdjacentShardToMerge: kids.ChildShardIDs[1]})
		require.NoError(t, err)
		open.ShardID = merged.ChildShardID
	}
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: lower.HashKeyRange.StartingHashKey, Data: []byte("lower")})
	require.NoError(t, err)
	var got []string
	for r, err := range s.ReadAllFrom(ctx, shardlog.Position{upper.ShardID: out.SequenceNumber}) {
		require.NoError(t, err)
		got = append(got, string(r.Data))
	}
	require.Equal(t, []string{"lower"}, got, "the upper part is read past its record; the lower part, unknown to the position, from its oldest")
}
