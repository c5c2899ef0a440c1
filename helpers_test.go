package shardlog_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
)

func TestPositionHelpers(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	first := put(t, s, "k", "one").SequenceNumber
	put(t, s, "k", "two")
	require.Equal(t, shard0, first.ShardID())
	require.Equal(t, uint64(1), first.Counter())
	require.Equal(t, "", shardlog.SequenceNumber{}.ShardID())

	read := func(p shardlog.StartingPosition) (out []string) {
		for r, err := range s.Records(ctx, shard0, p) {
			require.NoError(t, err)
			out = append(out, string(r.Data))
		}
		return out
	}
	require.Equal(t, []string{"one", "two"}, read(shardlog.At(first)))
	require.Equal(t, []string{"two"}, read(shardlog.After(first)))
}

func TestShardHelpers(t *testing.T) {
	require.Equal(t, "shardId-000000000007", shardlog.ShardIDOf(7))
	require.Equal(t, "", shardlog.ShardIDOf(-1))

	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	shards := listAll(t, s, shardlog.ShardFilter{})
	mid := shards[0].HashKeyRange.Midpoint()
	require.Equal(t, "170141183460469231731687303715884105728", mid, "2^127 halves the whole range")
	children, err := s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: mid})
	require.NoError(t, err)
	require.Equal(t, []string{"shardId-000000000001", "shardId-000000000002"}, children.ChildShardIDs, "the lower half first")
	for _, sh := range listAll(t, s, shardlog.ShardFilter{Type: shardlog.FilterAtLatest}) {
		require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: sh.ShardID, NewStartingHashKey: sh.HashKeyRange.Midpoint()})), "each half halves again")
	}
	child, err := s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: "shardId-000000000003", AdjacentShardToMerge: "shardId-000000000004"})
	require.NoError(t, err)
	require.Equal(t, "shardId-000000000007", child.ChildShardID)
	_, err = s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: "shardId-000000000003", AdjacentShardToMerge: "shardId-000000000004"})
	require.ErrorIs(t, err, shardlog.ErrResourceNotFound, "closed now")
	require.Equal(t, "", shardlog.HashKeyRange{StartingHashKey: "5", EndingHashKey: "6"}.Midpoint(), "too narrow")
	require.Equal(t, "", shardlog.HashKeyRange{StartingHashKey: "x", EndingHashKey: "6"}.Midpoint())
	require.Equal(t, "7", shardlog.HashKeyRange{StartingHashKey: "5", EndingHashKey: "8"}.Midpoint())
}

func TestSubscribeFromTheStream(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	register(t, s, "app")
	put(t, s, "k", "x")
	sub, err := s.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerName: "app", ShardID: shard0, StartingPosition: shardlog.StartingPosition{Type: shardlog.TrimHorizon}})
	require.NoError(t, err)
	defer sub.Close()
	ev := <-sub.Events()
	require.Len(t, ev.Records, 1)
	_, err = s.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerName: "nobody", ShardID: shard0, StartingPosition: shardlog.StartingPosition{Type: shardlog.TrimHorizon}})
	require.ErrorIs(t, err, shardlog.ErrResourceNotFound)

	// By ARN, as the account takes it.
	c, err := s.DescribeStreamConsumer(ctx, "app")
	require.NoError(t, err)
	clk.Advance(5 * time.Second) // the same consumer and shard may subscribe again after 5 s
	byARN, err := s.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardID: shard0, StartingPosition: shardlog.StartingPosition{Type: shardlog.TrimHorizon}})
	require.NoError(t, err)
	defer byARN.Close()
	ev = <-byARN.Events()
	require.Len(t, ev.Records, 1)
}

// TestCanonicalShardID: shard IDs given as input name shards as Kinesis
// reads them.
func TestCanonicalShardID(t *testing.T) {
	for id, want := range map[string]string{
		"shardId-5": "shardId-000000000005", "5": "shardId-000000000005", "x-0005": "shardId-000000000005",
		"shardId-000000000012": "shardId-000000000012", "shardId-": "", "a-b-5": "", "2.14E4": "", "": "",
	} {
		got, ok := shardlog.CanonicalShardID(id)
		require.Equal(t, want, got, id)
		require.Equal(t, want != "", ok, id)
	}
}

// TestSequenceNumberAsSent: text that is no sequence number is kept, for
// the operation to refuse in Kinesis's words; a number is parsed.
func TestSequenceNumberAsSent(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	r := put(t, s, "k", "x")
	require.Equal(t, r.SequenceNumber, shardlog.SequenceNumberAsSent(r.SequenceNumber.String()))
	_, err := s.GetShardIterator(ctx, shard0, shardlog.StartingPosition{Type: shardlog.AtSequenceNumber, SequenceNumber: shardlog.SequenceNumberAsSent("12x")})
	requireCode(t, err, shardlog.ErrValidation, "")
}
