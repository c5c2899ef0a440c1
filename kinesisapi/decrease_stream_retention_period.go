package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

func decreaseStreamRetentionPeriod(ctx context.Context, a *shardlog.Account, in *retentionInput) (any, error) {
	s, err := in.stream(ctx, a)
	if err != nil {
		return nil, err
	}
	return empty{}, s.DecreaseStreamRetentionPeriod(ctx, retentionPeriod(in.RetentionPeriodHours))
}
