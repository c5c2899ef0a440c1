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
	s, err := in.stream(ctx, a)
	if err != nil {
		// Kinesis answers for the shard even when the stream is missing.
		return nil, in.shardMissing(a, err, in.ShardId, true)
	}
	p := shardlog.StartingPosition{Type: shardlog.IteratorType(in.ShardIteratorType),
		SequenceNumber: shardlog.SequenceNumberAsSent(in.StartingSequenceNumber), Timestamp: ts(in.Timestamp)}
	it, err := s.GetShardIterator(ctx, in.ShardId, p)
	if err != nil {
		return nil, err
	}
	return getShardIteratorOutput{it}, nil
}
