package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type putRecordInput struct {
	streamRef
	Data                      []byte `json:"Data"`
	PartitionKey              string `json:"PartitionKey"`
	ExplicitHashKey           string `json:"ExplicitHashKey"`
	SequenceNumberForOrdering string `json:"SequenceNumberForOrdering"`
}

type putRecordOutput struct {
	ShardId        string `json:"ShardId"`
	SequenceNumber string `json:"SequenceNumber"`
	EncryptionType string `json:"EncryptionType,omitempty"`
}

func putRecord(ctx context.Context, a *shardlog.Account, in *putRecordInput) (any, error) {
	s, err := in.stream(ctx, a)
	if err != nil {
		return nil, err
	}
	put := shardlog.PutInput{PartitionKey: in.PartitionKey, Data: in.Data, ExplicitHashKey: in.ExplicitHashKey,
		SequenceNumberForOrdering: shardlog.SequenceNumberAsSent(in.SequenceNumberForOrdering)}
	r, err := s.Put(ctx, put)
	if err != nil {
		return nil, err
	}
	return putRecordOutput{ShardId: r.ShardID, SequenceNumber: r.SequenceNumber.String(), EncryptionType: string(r.EncryptionType)}, nil
}
