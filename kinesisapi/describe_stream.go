package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type describeStreamInput struct {
	streamRef
	Limit                 int    `json:"Limit"`
	ExclusiveStartShardId string `json:"ExclusiveStartShardId"`
}

type streamDescription struct {
	StreamName              string            `json:"StreamName"`
	StreamARN               string            `json:"StreamARN"`
	StreamStatus            string            `json:"StreamStatus"`
	StreamModeDetails       streamModeDetails `json:"StreamModeDetails"`
	Shards                  []wireShard       `json:"Shards"`
	HasMoreShards           bool              `json:"HasMoreShards"`
	RetentionPeriodHours    int               `json:"RetentionPeriodHours"`
	StreamCreationTimestamp epoch             `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []enhancedMetrics `json:"EnhancedMonitoring"`
	EncryptionType          string            `json:"EncryptionType"`
	KeyId                   string            `json:"KeyId,omitempty"`
}

type describeStreamOutput struct {
	StreamDescription streamDescription `json:"StreamDescription"`
}

func describeStream(ctx context.Context, a *shardlog.Account, in *describeStreamInput) (any, error) {
	s, err := in.stream(ctx, a)
	if err != nil {
		return nil, err
	}
	d, err := s.DescribeStream(ctx, shardlog.DescribeStreamInput{Limit: in.Limit, ExclusiveStartShardID: in.ExclusiveStartShardId})
	if err != nil {
		return nil, err
	}
	sum := summary(d.StreamDescriptionSummary)
	return describeStreamOutput{streamDescription{
		StreamName:              sum.StreamName,
		StreamARN:               sum.StreamARN,
		StreamStatus:            sum.StreamStatus,
		StreamModeDetails:       sum.StreamModeDetails,
		Shards:                  shards(d.Shards),
		HasMoreShards:           d.HasMoreShards,
		RetentionPeriodHours:    sum.RetentionPeriodHours,
		StreamCreationTimestamp: sum.StreamCreationTimestamp,
		EnhancedMonitoring:      sum.EnhancedMonitoring,
		EncryptionType:          sum.EncryptionType,
		KeyId:                   sum.KeyId,
	}}, nil
}
