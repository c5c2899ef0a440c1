package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type removeTagsFromStreamInput struct {
	streamRef
	TagKeys []string `json:"TagKeys"`
}

func removeTagsFromStream(ctx context.Context, a *shardlog.Account, in *removeTagsFromStreamInput) (any, error) {
	s, err := in.stream(ctx, a)
	if err != nil {
		return nil, err
	}
	return empty{}, s.RemoveTagsFromStream(ctx, in.TagKeys)
}
