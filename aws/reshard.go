package aws

import (
	"context"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// SplitShard splits shardToSplit at newStartingHashKey, as
// shardlog.Stream.SplitShard. Kinesis does not name the children in its
// answer, so none are returned: ListShards lists them.
func (s *Stream) SplitShard(ctx context.Context, shardToSplit, newStartingHashKey string) ([]string, error) {
	in := &kinesis.SplitShardInput{ShardToSplit: sdk.String(shardToSplit), NewStartingHashKey: sdk.String(newStartingHashKey)}
	in.StreamName, in.StreamARN = s.ref()
	_, err := s.client.SplitShard(ctx, in, guardKinesis)
	return nil, mapError(err)
}

// MergeShards merges two adjacent open shards, as
// shardlog.Stream.MergeShards. Kinesis does not name the child in its
// answer, so "" is returned: ListShards lists it.
func (s *Stream) MergeShards(ctx context.Context, shardToMerge, adjacentShardToMerge string) (string, error) {
	in := &kinesis.MergeShardsInput{ShardToMerge: sdk.String(shardToMerge), AdjacentShardToMerge: sdk.String(adjacentShardToMerge)}
	in.StreamName, in.StreamARN = s.ref()
	_, err := s.client.MergeShards(ctx, in, guardKinesis)
	return "", mapError(err)
}
