package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type addTagsToStreamInput struct {
	streamRef
	Tags map[string]string `json:"Tags"`
}

func addTagsToStream(ctx context.Context, a *shardlog.Account, in *addTagsToStreamInput) (any, error) {
	s, err := in.stream(ctx, a)
	if err != nil {
		return nil, err
	}
	return empty{}, s.AddTagsToStream(ctx, in.Tags)
}
