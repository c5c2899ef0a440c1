package aws

import (
	"context"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/shardlog/shardlog"
)

// SplitShard splits a shard, as shardlog.Stream.SplitShard. Kinesis does
// not name the children in its answer, so the output names none:
// ListShards lists them.
func (s *Stream) SplitShard(ctx context.Context, in shardlog.SplitShardInput) (shardlog.SplitShardOutput, error) {
	req := &kinesis.SplitShardInput{ShardToSplit: sdk.String(in.ShardToSplit), NewStartingHashKey: sdk.String(in.NewStartingHashKey)}
	req.StreamName, req.StreamARN = s.ref()
	_, err := s.client.SplitShard(ctx, req, guardKinesis)
	return shardlog.SplitShardOutput{}, mapError(err)
}

// MergeShards merges two adjacent open shards, as
// shardlog.Stream.MergeShards. Kinesis does not name the child in its
// answer, so the output's ChildShardID is "": ListShards lists it.
func (s *Stream) MergeShards(ctx context.Context, in shardlog.MergeShardsInput) (shardlog.MergeShardsOutput, error) {
	req := &kinesis.MergeShardsInput{ShardToMerge: sdk.String(in.ShardToMerge), AdjacentShardToMerge: sdk.String(in.AdjacentShardToMerge)}
	req.StreamName, req.StreamARN = s.ref()
	_, err := s.client.MergeShards(ctx, req, guardKinesis)
	return shardlog.MergeShardsOutput{}, mapError(err)
}
