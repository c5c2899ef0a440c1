package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/apimodel"
)

type updateShardCountInput struct {
	streamRef
	TargetShardCount *int   `json:"TargetShardCount"`
	ScalingType      string `json:"ScalingType"`
}

type updateShardCountOutput struct {
	StreamName        string `json:"StreamName"`
	StreamARN         string `json:"StreamARN"`
	CurrentShardCount int    `json:"CurrentShardCount"`
	TargetShardCount  int    `json:"TargetShardCount"`
}

func updateShardCount(ctx context.Context, a *shardlog.Account, in *updateShardCountInput) (any, error) {
	if in.TargetShardCount == nil { // validation has said so already; a guard
		var v apimodel.Violations
		v.Required("targetShardCount", true)
		return nil, modelError(v.Err())
	}
	s, err := in.stream(ctx, a)
	if err != nil {
		return nil, err
	}
	out, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: *in.TargetShardCount, ScalingType: shardlog.ScalingType(in.ScalingType)})
	if err != nil {
		return nil, err
	}
	return updateShardCountOutput(out), nil
}
