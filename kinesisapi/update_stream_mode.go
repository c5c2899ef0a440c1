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
	if in.StreamModeDetails == nil { // validation has said so already; a guard
		var v violations
		v.required("streamModeDetails", true)
		return nil, v.err()
	}
	s, err := lookup(ctx, a, shardlog.StreamRef{StreamARN: in.StreamARN})
	if err != nil {
		return nil, err
	}
	return empty{}, s.UpdateStreamMode(ctx, shardlog.StreamMode(in.StreamModeDetails.StreamMode))
}
