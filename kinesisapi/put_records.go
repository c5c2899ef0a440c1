package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type putRecordsInput struct {
	streamRef
	Records []putRecordsEntryInput `json:"Records"`
}

type putRecordsEntryInput struct {
	Data            []byte `json:"Data"`
	PartitionKey    string `json:"PartitionKey"`
	ExplicitHashKey string `json:"ExplicitHashKey"`
}

// putRecordsRaw decodes with the fast path when it can.
func putRecordsRaw(ctx context.Context, a *shardlog.Account, body []byte) (any, error) {
	in := new(putRecordsInput)
	if !fastPutRecords(body, in) {
		*in = putRecordsInput{}
		if err := decode(body, in); err != nil {
			return nil, err
		}
	}
	out, err := putRecords(ctx, a, in)
	if err != nil {
		return nil, err
	}
	res := out.(putRecordsOutput)
	return rawJSON(appendPutRecordsOutput(make([]byte, 0, 128*len(res.Records)+64), &res)), nil
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
	out := putRecordsOutput{FailedRecordCount: res.FailedRecordCount, Records: make([]putRecordsEntry, len(res.Records)), EncryptionType: res.EncryptionType}
	for i, e := range res.Records {
		out.Records[i] = putRecordsEntry{SequenceNumber: e.SequenceNumber.String(), ShardId: e.ShardID, ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage}
	}
	return out, nil
}
