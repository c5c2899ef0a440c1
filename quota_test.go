package shardlog_test

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

// TestShardLimitHoldsUnderConcurrentReshards: two streams scaling up at once
// may not exceed the account's shard limit together. Each round leaves
// room for exactly one of them.
func TestShardLimitHoldsUnderConcurrentReshards(t *testing.T) {
	for round := 0; round < 200; round++ {
		a, _ := newAccount(t, shardlog.WithShardLimit(6))
		streams := []*shardlog.Stream{newStream(t, a, "a", 2), newStream(t, a, "b", 2)}
		var wg sync.WaitGroup
		errs := make([]error, len(streams))
		for i, s := range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 4, ScalingType: shardlog.UniformScaling}) // +2 each: room for one
			}()
		}
		wg.Wait()
		open := 0
		for _, s := range streams {
			open += len(listAll(t, s, shardlog.ShardFilter{Type: shardlog.FilterAtLatest}))
		}
		lim, err := a.DescribeLimits(ctx)
		require.NoError(t, err)
		require.LessOrEqual(t, open, 6, "round %d: %v", round, errs)
		require.Equal(t, open, lim.OpenShardCount, "round %d: DescribeLimits counts what is open", round)
		failed := 0
		for _, err := range errs {
			if err != nil {
				requireCode(t, err, shardlog.ErrLimitExceeded, "")
				failed++
			}
		}
		require.Equal(t, 1, failed, "round %d: exactly one reshard is refused: %v", round, errs)
		require.NoError(t, a.Close())
	}
}

// TestShardCountsThatWouldOverflow: a shard count near the largest int is
// refused by the shard limit, never wrapped round into a small number.
func TestShardCountsThatWouldOverflow(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 2)
	for _, n := range []int{math.MaxInt64, math.MaxInt64 - 1, math.MaxInt32, math.MaxInt64/2 + 1} {
		_, err := a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "big", ShardCount: n})
		requireCode(t, err, shardlog.ErrLimitExceeded, "")
		_, err = s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: n, ScalingType: shardlog.UniformScaling})
		requireCode(t, err, shardlog.ErrLimitExceeded, "")
	}
	lim, err := a.DescribeLimits(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, lim.OpenShardCount)
}

// TestDeleteStreamReturnsItsShards: a deleted stream's shards no longer
// count against the limit.
func TestDeleteStreamReturnsItsShards(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithShardLimit(4))
	s := newStream(t, a, "s", 2)
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "1000"})))
	requireCode(t, errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "t", ShardCount: 2})), shardlog.ErrLimitExceeded, "")
	require.NoError(t, a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}}))
	require.NoError(t, errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "t", ShardCount: 4})))
	lim, err := a.DescribeLimits(ctx)
	require.NoError(t, err)
	require.Equal(t, 4, lim.OpenShardCount)
}

func TestOnDemandStreamCountAndLimit(t *testing.T) {
	a, clk := newAccount(t)
	for i := range 49 {
		require.NoError(t, errOf(a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "od" + itoa(i), Mode: shardlog.OnDemand, ShardCount: 1})))
		if i%5 == 4 {
			clk.Advance(time.Second) // no more than five CREATING at once (with delays)
		}
	}
	p := newStream(t, a, "p", 1)
	lim, err := a.DescribeLimits(ctx)
	require.NoError(t, err)
	require.Equal(t, shardlog.AccountLimits{ShardLimit: 20000, OpenShardCount: 50, OnDemandStreamCount: 49, OnDemandStreamCountLimit: 50}, lim)

	require.NoError(t, p.UpdateStreamMode(ctx, shardlog.OnDemand)) // the 50th
	require.NoError(t, p.UpdateStreamMode(ctx, shardlog.OnDemand), "a stream already ON_DEMAND is not counted twice")
	_, err = a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "od51", Mode: shardlog.OnDemand})
	requireCode(t, err, shardlog.ErrLimitExceeded, "This request would exceed the limit of 50 on-demand streams for the account 123456789012 in us-east-1.")
	q := newStream(t, a, "q", 1)
	requireCode(t, q.UpdateStreamMode(ctx, shardlog.OnDemand), shardlog.ErrLimitExceeded, "")

	require.NoError(t, p.UpdateStreamMode(ctx, shardlog.Provisioned))
	lim, err = a.DescribeLimits(ctx)
	require.NoError(t, err)
	require.Equal(t, 49, lim.OnDemandStreamCount)
	require.NoError(t, q.UpdateStreamMode(ctx, shardlog.OnDemand))
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }
