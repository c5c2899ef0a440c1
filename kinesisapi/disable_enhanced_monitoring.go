package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

func disableEnhancedMonitoring(ctx context.Context, a *shardlog.Account, in *monitoringInput) (any, error) {
	s, err := in.stream(ctx, a)
	if err != nil {
		return nil, err
	}
	out, err := s.DisableEnhancedMonitoring(ctx, in.ShardLevelMetrics)
	if err != nil {
		return nil, err
	}
	return monitoringOutput(out), nil
}
