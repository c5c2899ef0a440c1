package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type retentionInput struct {
	streamRef
	RetentionPeriodHours int `json:"RetentionPeriodHours"`
}

func increaseStreamRetentionPeriod(ctx context.Context, a *shardlog.Account, in *retentionInput) (any, error) {
	s, err := in.stream(ctx, a)
	if err != nil {
		return nil, err
	}
	return empty{}, s.IncreaseStreamRetentionPeriod(ctx, in.RetentionPeriodHours)
}
