package shardlog_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
)

// fixture is an account with a populated stream "s": records on two shards
// (one closed by a split), a consumer, tags.
type fixture struct {
	a        *shardlog.Account
	clk      *shardlog.ManualClock
	s        *shardlog.Stream
	consumer string // ARN
	seq      string // a sequence number of shard 1
	iter     string // an iterator of shard 1, made at t0
	token    string // a ListShards NextToken, made at t0
}

func newFixture(t *testing.T) *fixture {
	a, clk := newAccount(t, shardlog.WithShardLimit(6), shardlog.WithLimits(shardlog.Limits{WriteRecordsPerSecond: 20}))
	s := newStream(t, a, "s", 2)
	f := &fixture{a: a, clk: clk, s: s}
	for i := 0; i < 10; i++ {
		r, err := s.Put(ctx, shardlog.PutInput{PartitionKey: fmt.Sprint("k", i), Data: []byte(fmt.Sprint(i)), ExplicitHashKey: []string{"5", maxHash}[i%2]})
		require.NoError(t, err)
		if r.ShardID == "shardId-000000000001" {
			f.seq = r.SequenceNumber.String()
		}
	}
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "1000"})))
	c := register(t, s, "app")
	f.consumer = c.ConsumerARN
	require.NoError(t, s.AddTagsToStream(ctx, map[string]string{"team": "core"}))
	var err error
	f.iter, err = s.GetShardIterator(ctx, "shardId-000000000001", shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	require.NoError(t, err)
	page, err := s.ListShards(ctx, shardlog.ListShardsInput{MaxResults: 1})
	require.NoError(t, err)
	f.token = page.NextToken
	return f
}

// snapshot renders everything a caller can observe of the account.
func (f *fixture) snapshot(t *testing.T) string {
	var b strings.Builder
	streams, err := f.a.ListStreams(ctx, shardlog.ListStreamsInput{})
	require.NoError(t, err)
	fmt.Fprintln(&b, streams.StreamNames)
	for _, name := range streams.StreamNames {
		s, err := f.a.Stream(shardlog.StreamRef{StreamName: name})
		require.NoError(t, err)
		sum, err := s.DescribeStreamSummary(ctx)
		require.NoError(t, err)
		fmt.Fprintf(&b, "%+v\n", sum)
		shards, err := allShards(s)
		require.NoError(t, err)
		for _, sh := range shards {
			fmt.Fprintf(&b, "%+v:", sh)
			for r, err := range s.Records(ctx, sh.ShardID, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
				require.NoError(t, err)
				fmt.Fprintf(&b, " %s=%s", r.PartitionKey, r.Data)
			}
			fmt.Fprintln(&b)
		}
		tags, err := s.ListTagsForStream(ctx, shardlog.ListTagsForStreamInput{})
		require.NoError(t, err)
		consumers, err := s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{})
		require.NoError(t, err)
		fmt.Fprintf(&b, "%+v %+v\n", tags, consumers.Consumers)
	}
	lim, err := f.a.DescribeLimits(ctx)
	require.NoError(t, err)
	fmt.Fprintf(&b, "%+v\n", lim)
	return b.String()
}

// TestFailedCallsChangeNothing: for every operation, each exception it can
// raise, and the state is the same before and after the failed call.
func TestFailedCallsChangeNothing(t *testing.T) {
	long := strings.Repeat("x", 129)
	for _, tc := range []struct {
		op   string
		code *shardlog.Error
		call func(f *fixture) error
	}{
		{"CreateStream", shardlog.ErrValidation, func(f *fixture) error {
			return errOf(f.a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: long, ShardCount: 1}))
		}},
		{"CreateStream", shardlog.ErrResourceInUse, func(f *fixture) error {
			return errOf(f.a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 1}))
		}},
		{"CreateStream", shardlog.ErrLimitExceeded, func(f *fixture) error {
			return errOf(f.a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "t", ShardCount: 4}))
		}},
		{"CreateStream", shardlog.ErrInvalidArgument, func(f *fixture) error {
			return errOf(f.a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "t", ShardCount: 1, Tags: map[string]string{"aws:x": "y"}}))
		}},
		{"DeleteStream", shardlog.ErrResourceNotFound, func(f *fixture) error {
			return f.a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "nope"}})
		}},
		{"DeleteStream", shardlog.ErrResourceInUse, func(f *fixture) error {
			return f.a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}})
		}},
		{"DeleteStream", shardlog.ErrInvalidArgument, func(f *fixture) error {
			return f.a.DeleteStream(ctx, shardlog.DeleteStreamInput{})
		}},
		{"Put", shardlog.ErrValidation, func(f *fixture) error {
			_, err := f.s.Put(ctx, shardlog.PutInput{})
			return err
		}},
		{"Put", shardlog.ErrInvalidArgument, func(f *fixture) error {
			_, err := f.s.Put(ctx, shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: "-5"})
			return err
		}},
		{"Put", shardlog.ErrProvisionedThroughputExceeded, func(f *fixture) error {
			_, err := f.s.Put(ctx, shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: maxHash})
			return err
		}},
		{"PutBatch", shardlog.ErrValidation, func(f *fixture) error {
			_, err := f.s.PutBatch(ctx, make([]shardlog.PutInput, 501))
			return err
		}},
		{"PutBatch", shardlog.ErrInvalidArgument, func(f *fixture) error {
			_, err := f.s.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: "k"}, {PartitionKey: "k", ExplicitHashKey: "x"}})
			return err
		}},
		{"GetShardIterator", shardlog.ErrValidation, func(f *fixture) error {
			_, err := f.s.GetShardIterator(ctx, shard0, shardlog.StartingPosition{Type: "SOON"})
			return err
		}},
		{"GetShardIterator", shardlog.ErrResourceNotFound, func(f *fixture) error {
			_, err := f.s.GetShardIterator(ctx, "shardId-000000000099", shardlog.StartingPosition{Type: shardlog.Latest})
			return err
		}},
		{"GetShardIterator", shardlog.ErrInvalidArgument, func(f *fixture) error {
			_, err := f.s.GetShardIterator(ctx, shard0, wirePosition(shardlog.AtSequenceNumber, f.seq))
			return err
		}},
		{"GetRecords", shardlog.ErrValidation, func(f *fixture) error {
			_, err := f.a.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: f.iter, Limit: 10001})
			return err
		}},
		{"GetRecords", shardlog.ErrInvalidArgument, func(f *fixture) error {
			_, err := f.a.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: f.iter + "x"})
			return err
		}},
		{"GetRecords", shardlog.ErrExpiredIterator, func(f *fixture) error {
			f.clk.Advance(6 * time.Minute)
			_, err := f.a.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: f.iter})
			return err
		}},
		{"ListShards", shardlog.ErrInvalidArgument, func(f *fixture) error {
			_, err := f.a.ListShards(ctx, shardlog.ListShardsInput{NextToken: f.token, StreamRef: shardlog.StreamRef{StreamName: "s"}})
			return err
		}},
		{"ListShards", shardlog.ErrExpiredNextToken, func(f *fixture) error {
			f.clk.Advance(6 * time.Minute)
			_, err := f.a.ListShards(ctx, shardlog.ListShardsInput{NextToken: f.token})
			return err
		}},
		{"ListShards", shardlog.ErrResourceNotFound, func(f *fixture) error {
			_, err := f.a.ListShards(ctx, shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "nope"}})
			return err
		}},
		{"ListShards", shardlog.ErrValidation, func(f *fixture) error {
			_, err := f.a.ListShards(ctx, shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "s"}, MaxResults: -1})
			return err
		}},
		{"ListStreams", shardlog.ErrValidation, func(f *fixture) error {
			_, err := f.a.ListStreams(ctx, shardlog.ListStreamsInput{Limit: 10001})
			return err
		}},
		{"ListStreams", shardlog.ErrInvalidArgument, func(f *fixture) error {
			_, err := f.a.ListStreams(ctx, shardlog.ListStreamsInput{NextToken: "forged"})
			return err
		}},
		{"DescribeStream", shardlog.ErrValidation, func(f *fixture) error {
			_, err := f.s.DescribeStream(ctx, shardlog.DescribeStreamInput{Limit: 10001})
			return err
		}},
		{"SplitShard", shardlog.ErrResourceNotFound, func(f *fixture) error {
			return errOf(f.s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "100"}))
		}},
		{"SplitShard", shardlog.ErrInvalidArgument, func(f *fixture) error {
			return errOf(f.s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "shardId-000000000002", NewStartingHashKey: "1"}))
		}},
		{"SplitShard", shardlog.ErrValidation, func(f *fixture) error {
			return errOf(f.s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "shardId-000000000002", NewStartingHashKey: "1x"}))
		}},
		{"SplitShard", shardlog.ErrLimitExceeded, func(f *fixture) error {
			return errOf(f.s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "shardId-000000000003", NewStartingHashKey: "170141183460469231731687303715884105000"}))
		}},
		{"MergeShards", shardlog.ErrInvalidArgument, func(f *fixture) error {
			return errOf(f.s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: "shardId-000000000002", AdjacentShardToMerge: "shardId-000000000001"}))
		}},
		{"MergeShards", shardlog.ErrResourceNotFound, func(f *fixture) error {
			return errOf(f.s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: shard0, AdjacentShardToMerge: "shardId-000000000002"}))
		}},
		{"UpdateShardCount", shardlog.ErrLimitExceeded, func(f *fixture) error {
			_, err := f.s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 7, ScalingType: shardlog.UniformScaling})
			return err
		}},
		{"UpdateShardCount", shardlog.ErrValidation, func(f *fixture) error {
			_, err := f.s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 3, ScalingType: "RANDOM"})
			return err
		}},
		{"IncreaseStreamRetentionPeriod", shardlog.ErrInvalidArgument, func(f *fixture) error { return f.s.IncreaseStreamRetentionPeriod(ctx, 10*time.Hour) }},
		{"DecreaseStreamRetentionPeriod", shardlog.ErrInvalidArgument, func(f *fixture) error { return f.s.DecreaseStreamRetentionPeriod(ctx, 48*time.Hour) }},
		{"RegisterStreamConsumer", shardlog.ErrResourceInUse, func(f *fixture) error {
			_, err := f.s.RegisterStreamConsumer(ctx, "app")
			return err
		}},
		{"RegisterStreamConsumer", shardlog.ErrValidation, func(f *fixture) error {
			_, err := f.s.RegisterStreamConsumer(ctx, "a b")
			return err
		}},
		{"DeregisterStreamConsumer", shardlog.ErrResourceNotFound, func(f *fixture) error {
			return f.a.DeregisterStreamConsumer(ctx, shardlog.ConsumerRef{StreamARN: f.s.ARN(), ConsumerName: "nobody"})
		}},
		{"DescribeStreamConsumer", shardlog.ErrInvalidArgument, func(f *fixture) error {
			_, err := f.a.DescribeStreamConsumer(ctx, shardlog.ConsumerRef{ConsumerName: "app"})
			return err
		}},
		{"ListStreamConsumers", shardlog.ErrInvalidArgument, func(f *fixture) error {
			_, err := f.s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{NextToken: f.token})
			return err
		}},
		{"SubscribeToShard", shardlog.ErrResourceNotFound, func(f *fixture) error {
			_, err := f.a.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: f.consumer, ShardID: "shardId-000000000042", StartingPosition: shardlog.StartingPosition{Type: shardlog.Latest}})
			return err
		}},
		{"SubscribeToShard", shardlog.ErrInvalidArgument, func(f *fixture) error {
			_, err := f.a.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: f.consumer, ShardID: shard0, StartingPosition: shardlog.StartingPosition{Type: shardlog.AtTimestamp}})
			return err
		}},
		{"AddTagsToStream", shardlog.ErrInvalidArgument, func(f *fixture) error {
			return f.s.AddTagsToStream(ctx, map[string]string{"ok": "1", "bad\x00": "2"})
		}},
		{"RemoveTagsFromStream", shardlog.ErrValidation, func(f *fixture) error { return f.s.RemoveTagsFromStream(ctx, nil) }},
		{"ListTagsForStream", shardlog.ErrValidation, func(f *fixture) error {
			_, err := f.s.ListTagsForStream(ctx, shardlog.ListTagsForStreamInput{Limit: 51})
			return err
		}},
		{"UpdateStreamMode", shardlog.ErrValidation, func(f *fixture) error { return f.s.UpdateStreamMode(ctx, "FAST") }},
		{"StartStreamEncryption", shardlog.ErrValidation, func(f *fixture) error { return f.s.StartStreamEncryption(ctx, "AES", "k") }},
		{"EnableEnhancedMonitoring", shardlog.ErrValidation, func(f *fixture) error {
			_, err := f.s.EnableEnhancedMonitoring(ctx, []string{"Everything"})
			return err
		}},
	} {
		t.Run(tc.op+"/"+tc.code.Code, func(t *testing.T) {
			f := newFixture(t)
			if tc.code == shardlog.ErrProvisionedThroughputExceeded {
				for i := 0; i < 20; i++ { // use up the shard's write budget
					_, _ = f.s.Put(ctx, shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: maxHash})
				}
			}
			if tc.op == "SplitShard" && tc.code == shardlog.ErrLimitExceeded {
				// Three open shards in "s" and three here reach the limit of 6.
				require.NoError(t, errOf(f.a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "pad", ShardCount: 3})))
			}
			before := f.snapshot(t)
			err := tc.call(f)
			requireCode(t, err, tc.code, "")
			require.Equal(t, before, f.snapshot(t), "a failed %s changed the state", tc.op)
		})
	}
}
