package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type listTagsForStreamInput struct {
	streamRef
	ExclusiveStartTagKey string `json:"ExclusiveStartTagKey"`
	Limit                int    `json:"Limit"`
}

type wireTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type listTagsForStreamOutput struct {
	Tags        []wireTag `json:"Tags"`
	HasMoreTags bool      `json:"HasMoreTags"`
}

func listTagsForStream(ctx context.Context, a *shardlog.Account, in *listTagsForStreamInput) (any, error) {
	s, err := in.stream(ctx, a)
	if err != nil {
		return nil, err
	}
	out, err := s.ListTagsForStream(ctx, shardlog.ListTagsForStreamInput{Limit: in.Limit, ExclusiveStartTagKey: in.ExclusiveStartTagKey})
	if err != nil {
		return nil, err
	}
	w := listTagsForStreamOutput{Tags: make([]wireTag, len(out.Tags)), HasMoreTags: out.HasMoreTags}
	for i, t := range out.Tags {
		w.Tags[i] = wireTag(t)
	}
	return w, nil
}
