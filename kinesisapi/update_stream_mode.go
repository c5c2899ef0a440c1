package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/apimodel"
)

type updateStreamModeInput struct {
	StreamARN         string             `json:"StreamARN"`
	StreamModeDetails *streamModeDetails `json:"StreamModeDetails"`
}

func updateStreamMode(ctx context.Context, a *shardlog.Account, in *updateStreamModeInput) (any, error) {
	if in.StreamModeDetails == nil { // validation has said so already; a guard
		var v apimodel.Violations
		v.Required("streamModeDetails", true)
		return nil, modelError(v.Err())
	}
	s, err := lookup(ctx, a, shardlog.StreamRef{StreamARN: in.StreamARN})
	if err != nil {
		return nil, err
	}
	return empty{}, s.UpdateStreamMode(ctx, shardlog.StreamMode(in.StreamModeDetails.StreamMode))
}
