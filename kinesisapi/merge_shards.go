package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type mergeShardsInput struct {
	streamRef
	ShardToMerge         string `json:"ShardToMerge"`
	AdjacentShardToMerge string `json:"AdjacentShardToMerge"`
}

func mergeShards(ctx context.Context, a *shardlog.Account, in *mergeShardsInput) (any, error) {
	s, err := in.stream(ctx, a)
	if err != nil {
		if e := in.shardMissing(a, err, in.ShardToMerge, false); e != err {
			return nil, e
		}
		return nil, in.shardMissing(a, err, in.AdjacentShardToMerge, false)
	}
	_, err = s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: in.ShardToMerge, AdjacentShardToMerge: in.AdjacentShardToMerge})
	return empty{}, err
}
