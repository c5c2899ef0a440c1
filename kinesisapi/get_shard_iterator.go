package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type getShardIteratorInput struct {
	streamRef
	ShardId                string `json:"ShardId"`
	ShardIteratorType      string `json:"ShardIteratorType"`
	StartingSequenceNumber string `json:"StartingSequenceNumber"`
	Timestamp              *epoch `json:"Timestamp"`
}

type getShardIteratorOutput struct {
	ShardIterator string `json:"ShardIterator"`
}

func getShardIterator(ctx context.Context, a *shardlog.Account, in *getShardIteratorInput) (any, error) {
	s, err := in.stream(a)
	if err != nil {
		return nil, err
	}
	it, err := s.GetShardIterator(ctx, in.ShardId, shardlog.StartingPosition{
		Type:           shardlog.IteratorType(in.ShardIteratorType),
		SequenceNumber: in.StartingSequenceNumber,
		Timestamp:      ts(in.Timestamp),
	})
	if err != nil {
		return nil, err
	}
	return getShardIteratorOutput{it}, nil
}
