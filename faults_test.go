package shardlog_test

import (
	"context"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

// TestInjectedErrors: the next calls of an operation fail with the error
// given, on the stream and shard given, as often as asked.
func TestInjectedErrors(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 2)
	other := newStream(t, a, "other", 1)
	_, err := a.InjectFault(shardlog.Fault{Operation: "PutRecord", StreamName: "s", Times: 2, Err: shardlog.ErrProvisionedThroughputExceeded})
	require.NoError(t, err)
	put(t, other, "k", "other streams are spared")
	for range 2 {
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})
		require.ErrorIs(t, err, shardlog.ErrProvisionedThroughputExceeded)
		var e *shardlog.Error
		require.ErrorAs(t, err, &e)
		require.True(t, e.Retryable)
	}
	put(t, s, "k", "the third goes through")

	injected := &shardlog.Error{Code: "InternalFailure", Message: "injected"}
	remove, err := a.InjectFault(shardlog.Fault{Operation: "GetShardIterator", ShardID: "shardId-000000000001", Times: -1, Err: injected})
	require.NoError(t, err)
	injected.Message = "changed after" // the fault keeps its own copy
	for range 3 {
		_, err := s.GetShardIterator(ctx, "shardId-000000000001", shardlog.StartingPosition{Type: shardlog.Latest})
		requireCode(t, err, &shardlog.Error{Code: "InternalFailure"}, "injected")
		_, err = s.GetShardIterator(ctx, shard0, shardlog.StartingPosition{Type: shardlog.Latest})
		require.NoError(t, err, "other shards are spared")
	}
	remove()
	_, err = s.GetShardIterator(ctx, "shardId-000000000001", shardlog.StartingPosition{Type: shardlog.Latest})
	require.NoError(t, err)
}

// TestInjectedRecordFailures: chosen records of a PutRecords fail; the
// others are written.
func TestInjectedRecordFailures(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	_, err := a.InjectFault(shardlog.Fault{Operation: "PutRecords", Records: []int{1, 3}})
	require.NoError(t, err)
	batch := make([]shardlog.PutInput, 5)
	for i := range batch {
		batch[i] = shardlog.PutInput{PartitionKey: "k", Data: []byte{byte('a' + i)}}
	}
	res, err := s.PutBatch(ctx, batch)
	require.NoError(t, err)
	require.Equal(t, 2, res.FailedRecordCount)
	require.Equal(t, "InternalFailure", res.Records[1].ErrorCode)
	require.Equal(t, "Internal service failure.", res.Records[3].ErrorMessage)
	var got []string
	for _, r := range readShard(t, s, shard0) {
		got = append(got, string(r.Data))
	}
	require.Equal(t, []string{"a", "c", "e"}, got)

	res, err = s.PutBatch(ctx, batch)
	require.NoError(t, err)
	require.Zero(t, res.FailedRecordCount, "the fault acted once")

	_, err = a.InjectFault(shardlog.Fault{Operation: "GetRecords", Records: []int{0}})
	requireCode(t, err, shardlog.ErrInvalidArgument, "")
	_, err = a.InjectFault(shardlog.Fault{Records: []int{0}})
	requireCode(t, err, shardlog.ErrInvalidArgument, "")
	_, err = a.InjectFault(shardlog.Fault{Operation: "GetRecords", ShardID: "7"})
	requireCode(t, err, shardlog.ErrInvalidArgument, "")
}

// TestInjectedDelay: a delayed call waits on the account's clock, and
// gives up when its context ends.
func TestInjectedDelay(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	_, err := a.InjectFault(shardlog.Fault{Operation: "ListShards", Delay: 3 * time.Second, Times: 2})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := s.ListShards(ctx, shardlog.ListShardsInput{})
		done <- err
	}()
	require.NoError(t, clk.BlockUntil(ctx, 1))
	clk.Advance(2 * time.Second)
	select {
	case <-done:
		t.Fatal("the call did not wait")
	default:
	}
	clk.Advance(time.Second)
	require.NoError(t, <-done)

	cctx, cancel := context.WithCancel(ctx)
	go func() {
		_, err := s.ListShards(cctx, shardlog.ListShardsInput{})
		done <- err
	}()
	require.NoError(t, clk.BlockUntil(ctx, 1))
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}
