package shardlog_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
)

// TestStreamAPIConsumers: a stream manages its consumers by name through
// StreamAPI.
func TestStreamAPIConsumers(t *testing.T) {
	a, _ := newAccount(t)
	var api shardlog.StreamAPI = newStream(t, a, "s", 1)
	c, err := api.RegisterStreamConsumer(ctx, "app")
	require.NoError(t, err)
	got, err := api.DescribeStreamConsumer(ctx, "app")
	require.NoError(t, err)
	require.Equal(t, c.ConsumerARN, got.ConsumerARN)
	require.NoError(t, api.DeregisterStreamConsumer(ctx, "app"))
	_, err = api.DescribeStreamConsumer(ctx, "app")
	require.ErrorIs(t, err, shardlog.ErrResourceNotFound)
}

// TestNewSubscription: a subscription fed from outside delivers what its
// feed sends, ends with the feed's error, and Close stops the feed and
// ends cleanly.
func TestNewSubscription(t *testing.T) {
	boom := &shardlog.Error{Code: "ResourceInUseException", Message: "taken over"}
	sub := shardlog.NewSubscription(ctx, func(ctx context.Context, send func(shardlog.SubscribeToShardEvent) bool) error {
		for i := int64(0); i < 3; i++ {
			if !send(shardlog.SubscribeToShardEvent{MillisBehindLatest: i}) {
				return nil
			}
		}
		return boom
	})
	var got []int64
	for ev := range sub.Events() {
		got = append(got, ev.MillisBehindLatest)
	}
	require.Equal(t, []int64{0, 1, 2}, got)
	<-sub.Done()
	require.ErrorIs(t, sub.Err(), shardlog.ErrResourceInUse)

	stopped := make(chan struct{})
	sub = shardlog.NewSubscription(ctx, func(ctx context.Context, send func(shardlog.SubscribeToShardEvent) bool) error {
		defer close(stopped)
		for send(shardlog.SubscribeToShardEvent{}) {
		}
		return errors.New("the feed saw its context end")
	})
	<-sub.Events()
	require.NoError(t, sub.Close())
	<-stopped
	require.NoError(t, sub.Err(), "Close ends cleanly")
	_, open := <-sub.Events()
	require.False(t, open)

	cctx, cancel := context.WithCancel(ctx)
	sub = shardlog.NewSubscription(cctx, func(ctx context.Context, send func(shardlog.SubscribeToShardEvent) bool) error {
		<-ctx.Done()
		return ctx.Err()
	})
	cancel()
	<-sub.Done()
	require.ErrorIs(t, sub.Err(), context.Canceled)
}
