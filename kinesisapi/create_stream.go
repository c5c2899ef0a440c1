package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/apimodel"
)

type createStreamInput struct {
	StreamName        string             `json:"StreamName"`
	ShardCount        *int               `json:"ShardCount"`
	StreamModeDetails *streamModeDetails `json:"StreamModeDetails"`
	Tags              map[string]string  `json:"Tags"`
}

func createStream(ctx context.Context, a *shardlog.Account, in *createStreamInput) (any, error) {
	c := shardlog.CreateStreamInput{StreamName: in.StreamName, Tags: in.Tags}
	if in.StreamModeDetails != nil {
		c.Mode = shardlog.StreamMode(in.StreamModeDetails.StreamMode)
	}
	switch {
	case in.ShardCount != nil:
		c.ShardCount = *in.ShardCount
	case c.Mode != shardlog.OnDemand:
		var v apimodel.Violations
		v.Required("shardCount", true)
		return nil, modelError(v.Err())
	}
	_, err := a.CreateStream(ctx, c)
	return empty{}, err
}
