package kinesisapi

import (
	"context"
	"math"
	"time"

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
	return empty{}, s.IncreaseStreamRetentionPeriod(ctx, retentionPeriod(in.RetentionPeriodHours))
}

// retentionPeriod is RetentionPeriodHours as a duration, held at the
// largest whole number of hours a duration holds, so that a huge value is
// refused as too long rather than wrapping around.
func retentionPeriod(hours int) time.Duration {
	const most = math.MaxInt64 / int64(time.Hour)
	return time.Duration(max(min(int64(hours), most), -most)) * time.Hour
}
