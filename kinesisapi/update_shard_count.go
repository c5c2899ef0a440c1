package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type updateShardCountInput struct {
	streamRef
	TargetShardCount int    `json:"TargetShardCount"`
	ScalingType      string `json:"ScalingType"`
}

type updateShardCountOutput struct {
	StreamName        string `json:"StreamName"`
	StreamARN         string `json:"StreamARN"`
	CurrentShardCount int    `json:"CurrentShardCount"`
	TargetShardCount  int    `json:"TargetShardCount"`
}

func updateShardCount(ctx context.Context, a *shardlog.Account, in *updateShardCountInput) (any, error) {
	s, err := in.stream(a)
	if err != nil {
		return nil, err
	}
	if in.ScalingType == "" {
		return nil, &shardlog.Error{Code: shardlog.ErrValidation.Code, Message: "1 validation error detected: Value null at 'scalingType' failed to satisfy constraint: Member must not be null"}
	}
	out, err := s.UpdateShardCount(ctx, in.TargetShardCount, shardlog.ScalingType(in.ScalingType))
	if err != nil {
		return nil, err
	}
	return updateShardCountOutput(out), nil
}
