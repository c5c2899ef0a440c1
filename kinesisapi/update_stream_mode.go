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
	var v violations
	v.required("streamARN", in.StreamARN == "")
	v.required("streamModeDetails", in.StreamModeDetails == nil)
	if err := v.err(); err != nil {
		return nil, err
	}
	s, err := a.Stream(shardlog.StreamRef{StreamARN: in.StreamARN})
	if err != nil {
		return nil, err
	}
	return empty{}, s.UpdateStreamMode(ctx, shardlog.StreamMode(in.StreamModeDetails.StreamMode))
}
