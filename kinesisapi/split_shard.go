package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type splitShardInput struct {
	streamRef
	ShardToSplit       string `json:"ShardToSplit"`
	NewStartingHashKey string `json:"NewStartingHashKey"`
}

func splitShard(ctx context.Context, a *shardlog.Account, in *splitShardInput) (any, error) {
	s, err := in.stream(ctx, a)
	if err != nil {
		return nil, in.shardMissing(a, err, in.ShardToSplit, false)
	}
	_, err = s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: in.ShardToSplit, NewStartingHashKey: in.NewStartingHashKey})
	return empty{}, err
}
