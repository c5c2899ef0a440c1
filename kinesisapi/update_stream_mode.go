package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type updateStreamModeInput struct {
	StreamARN         string             `json:"StreamARN"`
	StreamModeDetails *streamModeDetails `json:"StreamModeDetails"`
}

func updateStreamMode(ctx context.Context, a *shardlog.Account, in *updateStreamModeInput) (any, error) {
	if in.StreamARN == "" || in.StreamModeDetails == nil {
		return nil, &shardlog.Error{Code: shardlog.ErrValidation.Code, Message: "1 validation error detected: StreamARN and StreamModeDetails are required"}
	}
	s, err := a.Stream(shardlog.StreamRef{StreamARN: in.StreamARN})
	if err != nil {
		return nil, err
	}
	return empty{}, s.UpdateStreamMode(ctx, shardlog.StreamMode(in.StreamModeDetails.StreamMode))
}
