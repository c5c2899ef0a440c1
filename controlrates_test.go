package shardlog_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
)

func withControlPlaneRates() shardlog.Option { return shardlog.WithLimits(shardlog.AWSLimits()) }

// TestControlPlaneRates: with ControlPlaneRates, each operation admits
// the calls a second its documentation allows, per account, stream or
// shard, and answers the next as Kinesis does until the clock moves on.
func TestControlPlaneRates(t *testing.T) {
	a, clk := newAccount(t, withControlPlaneRates())
	for i := 0; i < 5; i++ {
		_, err := a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: fmt.Sprint("s", i), ShardCount: 2})
		require.NoError(t, err)
	}
	_, err := a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s5", ShardCount: 1})
	requireCode(t, err, shardlog.ErrLimitExceeded, "Rate exceeded for stream s5 under account 123456789012.")
	var e *shardlog.Error
	require.ErrorAs(t, err, &e)
	require.True(t, e.Retryable)
	clk.Advance(time.Second / 5) // one more token
	_, err = a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s5", ShardCount: 1})
	require.NoError(t, err)

	_, err = a.DescribeLimits(ctx)
	require.NoError(t, err)
	_, err = a.DescribeLimits(ctx)
	requireCode(t, err, shardlog.ErrLimitExceeded, "Rate exceeded for account 123456789012.")

	// GetShardIterator: five a second per shard, each shard its own.
	s0, err := a.Stream(shardlog.StreamRef{StreamName: "s0"})
	require.NoError(t, err)
	latest := shardlog.StartingPosition{Type: shardlog.Latest}
	for i := 0; i < 5; i++ {
		_, err := s0.GetShardIterator(ctx, "shardId-000000000000", latest)
		require.NoError(t, err)
	}
	_, err = s0.GetShardIterator(ctx, "0", latest)
	requireCode(t, err, shardlog.ErrProvisionedThroughputExceeded, "Rate exceeded for shard shardId-000000000000 in stream s0 under account 123456789012.")
	_, err = s0.GetShardIterator(ctx, "shardId-000000000001", latest)
	require.NoError(t, err, "another shard has its own bucket")

	// ListStreamConsumers: five a second per stream, each stream its own.
	s1, err := a.Stream(shardlog.StreamRef{StreamName: "s1"})
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		_, err := s0.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{})
		require.NoError(t, err)
	}
	_, err = s0.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{})
	requireCode(t, err, shardlog.ErrLimitExceeded, "Rate exceeded for stream s0 under account 123456789012.")
	_, err = s1.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{})
	require.NoError(t, err)

	clk.Advance(time.Second)
	_, err = s0.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{})
	require.NoError(t, err, "the bucket refills on the account clock")
}

// TestControlPlaneRatesComeWithLimits: an account's default limits count
// control-plane calls; without limits, or with the shard limits alone,
// none are counted, however fast they come.
func TestControlPlaneRatesComeWithLimits(t *testing.T) {
	limited, err := shardlog.NewAccount(shardlog.WithClock(shardlog.NewManualClock(t0)))
	require.NoError(t, err)
	defer limited.Close()
	_, err = limited.DescribeLimits(ctx)
	require.NoError(t, err)
	_, err = limited.DescribeLimits(ctx)
	require.ErrorIs(t, err, shardlog.ErrLimitExceeded, "on by default")

	shardOnly := shardlog.AWSLimits()
	shardOnly.ControlPlaneRates = false
	for _, opt := range []shardlog.Option{shardlog.WithoutLimits(), shardlog.WithLimits(shardOnly)} {
		a, _ := newAccount(t, opt)
		for i := 0; i < 50; i++ {
			_, err := a.DescribeLimits(ctx)
			require.NoError(t, err)
		}
	}
}
