package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type monitoringInput struct {
	streamRef
	ShardLevelMetrics []string `json:"ShardLevelMetrics"`
}

type monitoringOutput struct {
	StreamName               string   `json:"StreamName"`
	StreamARN                string   `json:"StreamARN"`
	CurrentShardLevelMetrics []string `json:"CurrentShardLevelMetrics"`
	DesiredShardLevelMetrics []string `json:"DesiredShardLevelMetrics"`
}

func enableEnhancedMonitoring(ctx context.Context, a *shardlog.Account, in *monitoringInput) (any, error) {
	s, err := in.stream(ctx, a)
	if err != nil {
		return nil, err
	}
	out, err := s.EnableEnhancedMonitoring(ctx, in.ShardLevelMetrics)
	if err != nil {
		return nil, err
	}
	return monitoringOutput(out), nil
}
