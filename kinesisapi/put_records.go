package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type putRecordsInput struct {
	streamRef
	Records []struct {
		Data            []byte `json:"Data"`
		PartitionKey    string `json:"PartitionKey"`
		ExplicitHashKey string `json:"ExplicitHashKey"`
	} `json:"Records"`
}

type putRecordsEntry struct {
	SequenceNumber string `json:"SequenceNumber,omitempty"`
	ShardId        string `json:"ShardId,omitempty"`
	ErrorCode      string `json:"ErrorCode,omitempty"`
	ErrorMessage   string `json:"ErrorMessage,omitempty"`
}

type putRecordsOutput struct {
	FailedRecordCount int               `json:"FailedRecordCount"`
	Records           []putRecordsEntry `json:"Records"`
	EncryptionType    string            `json:"EncryptionType,omitempty"`
}

func putRecords(ctx context.Context, a *shardlog.Account, in *putRecordsInput) (any, error) {
	s, err := in.stream(a)
	if err != nil {
		return nil, err
	}
	batch := make([]shardlog.PutInput, len(in.Records))
	for i, r := range in.Records {
		batch[i] = shardlog.PutInput{PartitionKey: r.PartitionKey, Data: r.Data, ExplicitHashKey: r.ExplicitHashKey}
	}
	res, err := s.PutBatch(ctx, batch)
	if err != nil {
		return nil, err
	}
	out := putRecordsOutput{FailedRecordCount: res.FailedRecordCount, Records: make([]putRecordsEntry, len(res.Records)), EncryptionType: encryptionOf(s)}
	for i, e := range res.Records {
		out.Records[i] = putRecordsEntry{SequenceNumber: e.SequenceNumber.String(), ShardId: e.ShardID, ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage}
	}
	return out, nil
}
