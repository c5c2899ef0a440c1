package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
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
		var v violations
		v.required("targetShardCount", true)
		return nil, v.err()
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
