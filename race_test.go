package shardlog_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

// The tests in this file pin down races found from outside; they fail only
// under the race detector, which CI runs.

// background runs f in a loop on another goroutine until the returned stop
// is called; stop waits for it. f reports failures with t.Error.
func background(f func() bool) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			default:
			}
			if !f() {
				return
			}
		}
	}()
	return func() { close(quit); <-done }
}

// TestListShardsWhileClosedShardsExpire: expiry forgets closed shards while
// ListShards, ReadAll and the size bound walk the shard list.
func TestListShardsWhileClosedShardsExpire(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithSizeBound(shardlog.SizeBound{Records: 1000}))
	s := newStream(t, a, "s", 1)
	stop := background(func() bool {
		if _, err := s.ListShards(ctx, shardlog.ListShardsInput{}); err != nil {
			t.Error(err)
			return false
		}
		for _, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
			if err != nil && !errors.Is(err, shardlog.ErrRecordsLost) { // expired while read
				t.Error(err)
				return false
			}
		}
		return true
	})
	defer stop()
	for i := 0; i < 40; i++ {
		_, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 2 - i%2, ScalingType: shardlog.UniformScaling})
		require.NoError(t, err)
		put(t, s, "k", "v")
		clk.Advance(25 * time.Hour) // the closed shards expire
		require.NoError(t, a.ApplyRetention(ctx))
	}
}

// TestSubscriptionErrAfterItEndedByItself: a subscription that reached its
// shard's end is closed while another goroutine asks why it ended.
func TestSubscriptionErrAfterItEndedByItself(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	c := register(t, s, "app")
	for i := 0; i < 20; i++ {
		open := listAll(t, s, shardlog.ShardFilter{Type: shardlog.FilterAtLatest})[0]
		sub := subscribe(t, a, c.ConsumerARN, open.ShardID, shardlog.StartingPosition{Type: shardlog.Latest})
		_, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 2 - i%2, ScalingType: shardlog.UniformScaling})
		require.NoError(t, err)
		for ok := true; ok; _, ok = next(t, sub) {
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); sub.Close() }()
		require.NoError(t, sub.Err())
		wg.Wait()
		require.NoError(t, sub.Err())
		clk.Advance(3 * time.Hour) // within the daily UpdateShardCount quota
	}
}

// TestConsumerLookupsWhileDeregistering: describing and subscribing race
// the deregistration of the same consumer.
func TestConsumerLookupsWhileDeregistering(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	for i := 0; i < 300; i++ {
		c := register(t, s, "app")
		var stops []func()
		for range 2 {
			stops = append(stops, background(func() bool {
				_, err := a.DescribeStreamConsumer(ctx, shardlog.ConsumerRef{ConsumerARN: c.ConsumerARN})
				if err != nil && !errors.Is(err, shardlog.ErrResourceNotFound) {
					t.Error(err)
					return false
				}
				return true
			}))
		}
		stops = append(stops, background(func() bool {
			sub, err := a.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardID: shard0, StartingPosition: shardlog.StartingPosition{Type: shardlog.Latest}})
			if err == nil {
				sub.Close()
			}
			return true
		}))
		require.NoError(t, a.DeregisterStreamConsumer(ctx, shardlog.ConsumerRef{ConsumerARN: c.ConsumerARN}))
		for _, stop := range stops {
			stop()
		}
	}
}
