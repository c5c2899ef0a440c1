package shardlog_test

import (
	"context"
	"errors"
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
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

// TestEveryOperationCanFail: InjectFault accepts every Kinesis operation
// shardlog implements, refuses other names, and a fault on any of them
// fails its next call.
func TestEveryOperationCanFail(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 2)
	newStream(t, a, "doomed", 1)
	put(t, s, "k", "a record to read")
	c, err := s.RegisterStreamConsumer(ctx, "c")
	require.NoError(t, err)
	_, err = s.RegisterStreamConsumer(ctx, "leaving")
	require.NoError(t, err)
	it, err := s.GetShardIterator(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	require.NoError(t, err)
	consumer := func(name string) shardlog.ConsumerRef {
		return shardlog.ConsumerRef{StreamARN: s.ARN(), ConsumerName: name}
	}
	calls := map[string]func() error{
		"AddTagsToStream": func() error { return s.AddTagsToStream(ctx, map[string]string{"k": "v"}) },
		"CreateStream": func() error {
			_, err := a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "new", ShardCount: 1})
			return err
		},
		"DecreaseStreamRetentionPeriod": func() error { return s.DecreaseStreamRetentionPeriod(ctx, 24*time.Hour) },
		"DeleteResourcePolicy":          func() error { return a.DeleteResourcePolicy(ctx, s.ARN()) },
		"DeleteStream": func() error {
			return a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "doomed"}})
		},
		"DeregisterStreamConsumer":  func() error { return a.DeregisterStreamConsumer(ctx, consumer("leaving")) },
		"DescribeLimits":            func() error { _, err := a.DescribeLimits(ctx); return err },
		"DescribeStream":            func() error { _, err := s.DescribeStream(ctx, shardlog.DescribeStreamInput{}); return err },
		"DescribeStreamConsumer":    func() error { _, err := a.DescribeStreamConsumer(ctx, consumer("c")); return err },
		"DescribeStreamSummary":     func() error { _, err := s.DescribeStreamSummary(ctx); return err },
		"DisableEnhancedMonitoring": func() error { _, err := s.DisableEnhancedMonitoring(ctx, []string{"ALL"}); return err },
		"EnableEnhancedMonitoring":  func() error { _, err := s.EnableEnhancedMonitoring(ctx, []string{"ALL"}); return err },
		"GetRecords":                func() error { _, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it}); return err },
		"GetResourcePolicy":         func() error { _, err := a.GetResourcePolicy(ctx, s.ARN()); return err },
		"GetShardIterator": func() error {
			_, err := s.GetShardIterator(ctx, shard0, shardlog.StartingPosition{Type: shardlog.Latest})
			return err
		},
		"IncreaseStreamRetentionPeriod": func() error { return s.IncreaseStreamRetentionPeriod(ctx, 48*time.Hour) },
		"ListShards": func() error {
			_, err := a.ListShards(ctx, shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "s"}})
			return err
		},
		"ListStreamConsumers": func() error { _, err := s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{}); return err },
		"ListStreams":         func() error { _, err := a.ListStreams(ctx, shardlog.ListStreamsInput{}); return err },
		"ListTagsForStream":   func() error { _, err := s.ListTagsForStream(ctx, shardlog.ListTagsForStreamInput{}); return err },
		"MergeShards": func() error {
			_, err := s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: shard0, AdjacentShardToMerge: "shardId-000000000001"})
			return err
		},
		"PutRecord": func() error {
			_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})
			return err
		},
		"PutRecords": func() error {
			_, err := s.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: "k", Data: []byte("x")}})
			return err
		},
		"PutResourcePolicy": func() error {
			return a.PutResourcePolicy(ctx, s.ARN(), `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kinesis:PutRecord","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)
		},
		"RegisterStreamConsumer": func() error { _, err := s.RegisterStreamConsumer(ctx, "another"); return err },
		"RemoveTagsFromStream":   func() error { return s.RemoveTagsFromStream(ctx, []string{"k"}) },
		"SplitShard": func() error {
			_, err := s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "1000"})
			return err
		},
		"StartStreamEncryption": func() error { return s.StartStreamEncryption(ctx, "KMS", "alias/aws/kinesis") },
		"StopStreamEncryption":  func() error { return s.StopStreamEncryption(ctx, "KMS", "alias/aws/kinesis") },
		"SubscribeToShard": func() error {
			sub, err := a.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardID: shard0, StartingPosition: shardlog.StartingPosition{Type: shardlog.Latest}})
			if err == nil {
				sub.Close()
			}
			return err
		},
		"UpdateShardCount": func() error {
			_, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 4, ScalingType: ""})
			return err
		},
		"UpdateStreamMode": func() error { return s.UpdateStreamMode(ctx, shardlog.OnDemand) },
	}

	_, err = a.InjectFault(shardlog.Fault{Operation: "PutMetricData"})
	requireCode(t, err, shardlog.ErrInvalidArgument, "")
	accepted := strings.Split(strings.TrimSuffix(strings.SplitN(err.Error(), "implements: ", 2)[1], "."), ", ")
	require.ElementsMatch(t, slices.Collect(maps.Keys(calls)), accepted, "the table covers every operation accepted")

	injected := &shardlog.Error{Code: "InjectedFailure", Message: "injected"}
	for _, op := range slices.Sorted(maps.Keys(calls)) {
		_, err := a.InjectFault(shardlog.Fault{Operation: op, StreamName: "", Err: injected})
		require.NoError(t, err, op)
		requireCode(t, calls[op](), injected, "injected")
		require.False(t, errors.Is(calls[op](), injected), "%s: the fault acted once", op)
	}

	_, err = a.InjectFault(shardlog.Fault{Operation: "ListStreams", ShardID: shard0})
	requireCode(t, err, shardlog.ErrInvalidArgument, "ListStreams acts on no single shard: a fault on it cannot name one.")
	_, err = a.InjectFault(shardlog.Fault{Operation: "PutRecords", ShardID: shard0})
	requireCode(t, err, shardlog.ErrInvalidArgument, "PutRecords acts on no single shard: a fault on it cannot name one.")
}

// TestFaultsReachIteratorsAndGroups: a GetRecords fault fails a Go
// iterator as it opens the shard, and an embedded group backs off and
// reads on once it has acted.
func TestFaultsReachIteratorsAndGroups(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	put(t, s, "k", "one")
	injected := &shardlog.Error{Code: "InternalFailure", Message: "injected"}
	_, err := a.InjectFault(shardlog.Fault{Operation: "GetRecords", ShardID: shard0, Err: injected})
	require.NoError(t, err)
	for _, err := range s.Records(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		requireCode(t, err, injected, "injected")
		break
	}
	var n int
	for r, err := range s.Records(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err)
		require.Equal(t, "one", string(r.Data))
		n++
	}
	require.Equal(t, 1, n, "the fault acted once")

	_, err = a.InjectFault(shardlog.Fault{Operation: "GetRecords", StreamName: "s", Err: injected})
	require.NoError(t, err)
	got := make(chan string, 1)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- shardlog.RunWorker(wctx, s, shardlog.WorkerConfig{Application: "app", NewProcessor: shardlog.ProcessFunc(
			func(_ context.Context, in shardlog.ProcessRecordsInput) error {
				for _, r := range in.Records {
					got <- string(r.Data)
				}
				return nil
			})})
	}()
	for {
		clk.Advance(time.Second) // the group backs off a second after a failed read
		select {
		case data := <-got:
			require.Equal(t, "one", data)
			stop()
			require.NoError(t, <-done)
			for _, err := range s.Records(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
				require.NoError(t, err, "the group's read took the fault")
			}
			return
		default:
			runtime.Gosched()
		}
	}
}
