package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type getRecordsInput struct {
	ShardIterator string `json:"ShardIterator"`
	Limit         int    `json:"Limit"`
	StreamARN     string `json:"StreamARN"`
}

type getRecordsOutput struct {
	Records            []wireRecord `json:"Records"`
	NextShardIterator  string       `json:"NextShardIterator,omitempty"`
	MillisBehindLatest int64        `json:"MillisBehindLatest"`
	ChildShards        []childShard `json:"ChildShards,omitempty"`
}

func getRecords(ctx context.Context, a *shardlog.Account, in *getRecordsInput) (any, error) {
	out, err := a.GetRecords(ctx, shardlog.GetRecordsInput(*in))
	if err != nil {
		return nil, err
	}
	return getRecordsOutput{
		Records:            records(out.Records, out.EncryptionType),
		NextShardIterator:  out.NextShardIterator,
		MillisBehindLatest: out.MillisBehindLatest,
		ChildShards:        childShards(out.ChildShards),
	}, nil
}
