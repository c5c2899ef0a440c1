package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type streamDescriptionSummary struct {
	StreamName              string            `json:"StreamName"`
	StreamARN               string            `json:"StreamARN"`
	StreamStatus            string            `json:"StreamStatus"`
	StreamModeDetails       streamModeDetails `json:"StreamModeDetails"`
	RetentionPeriodHours    int               `json:"RetentionPeriodHours"`
	StreamCreationTimestamp epoch             `json:"StreamCreationTimestamp"`
	EnhancedMonitoring      []enhancedMetrics `json:"EnhancedMonitoring"`
	EncryptionType          string            `json:"EncryptionType"`
	KeyId                   string            `json:"KeyId,omitempty"`
	OpenShardCount          int               `json:"OpenShardCount"`
	ConsumerCount           int               `json:"ConsumerCount"`
	MaxRecordSizeInKiB      int               `json:"MaxRecordSizeInKiB"`
}

func summary(d shardlog.StreamDescriptionSummary) streamDescriptionSummary {
	return streamDescriptionSummary{
		StreamName:              d.StreamName,
		StreamARN:               d.StreamARN,
		StreamStatus:            string(d.StreamStatus),
		StreamModeDetails:       streamModeDetails{StreamMode: string(d.StreamMode)},
		RetentionPeriodHours:    d.RetentionPeriodHours,
		StreamCreationTimestamp: epoch{d.StreamCreationTimestamp},
		EnhancedMonitoring:      monitoring(d.ShardLevelMetrics),
		EncryptionType:          string(d.EncryptionType),
		KeyId:                   d.KeyID,
		OpenShardCount:          d.OpenShardCount,
		ConsumerCount:           d.ConsumerCount,
		MaxRecordSizeInKiB:      d.MaxRecordSizeInKiB,
	}
}

type describeStreamSummaryOutput struct {
	StreamDescriptionSummary streamDescriptionSummary `json:"StreamDescriptionSummary"`
}

func describeStreamSummary(ctx context.Context, a *shardlog.Account, in *streamRef) (any, error) {
	s, err := in.stream(ctx, a)
	if err != nil {
		return nil, err
	}
	d, err := s.DescribeStreamSummary(ctx)
	if err != nil {
		return nil, err
	}
	return describeStreamSummaryOutput{summary(d)}, nil
}
