package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type describeLimitsOutput struct {
	ShardLimit               int `json:"ShardLimit"`
	OpenShardCount           int `json:"OpenShardCount"`
	OnDemandStreamCount      int `json:"OnDemandStreamCount"`
	OnDemandStreamCountLimit int `json:"OnDemandStreamCountLimit"`
}

func describeLimits(ctx context.Context, a *shardlog.Account, _ *empty) (any, error) {
	l, err := a.DescribeLimits(ctx)
	if err != nil {
		return nil, err
	}
	return describeLimitsOutput(l), nil
}
