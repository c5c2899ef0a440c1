package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type listShardsInput struct {
	streamRef
	NextToken               string `json:"NextToken"`
	ExclusiveStartShardId   string `json:"ExclusiveStartShardId"`
	MaxResults              int    `json:"MaxResults"`
	StreamCreationTimestamp *epoch `json:"StreamCreationTimestamp"`
	ShardFilter             *struct {
		Type      string `json:"Type"`
		ShardId   string `json:"ShardId"`
		Timestamp *epoch `json:"Timestamp"`
	} `json:"ShardFilter"`
}

type listShardsOutput struct {
	Shards    []wireShard `json:"Shards"`
	NextToken string      `json:"NextToken,omitempty"`
}

func listShards(ctx context.Context, a *shardlog.Account, in *listShardsInput) (any, error) {
	q := shardlog.ListShardsInput{
		StreamRef:               shardlog.StreamRef{StreamName: in.StreamName, StreamARN: in.StreamARN},
		NextToken:               in.NextToken,
		ExclusiveStartShardID:   in.ExclusiveStartShardId,
		MaxResults:              in.MaxResults,
		StreamCreationTimestamp: ts(in.StreamCreationTimestamp),
	}
	if f := in.ShardFilter; f != nil {
		q.ShardFilter = shardlog.ShardFilter{Type: shardlog.ShardFilterType(f.Type), ShardID: f.ShardId, Timestamp: ts(f.Timestamp)}
	}
	out, err := a.ListShards(ctx, q)
	if err != nil {
		return nil, err
	}
	return listShardsOutput{Shards: shards(out.Shards), NextToken: out.NextToken}, nil
}
