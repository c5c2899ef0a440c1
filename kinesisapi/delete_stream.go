package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type deleteStreamInput struct {
	streamRef
	EnforceConsumerDeletion bool `json:"EnforceConsumerDeletion"`
}

func deleteStream(ctx context.Context, a *shardlog.Account, in *deleteStreamInput) (any, error) {
	return empty{}, a.DeleteStream(ctx, shardlog.DeleteStreamInput{
		StreamRef:               shardlog.StreamRef{StreamName: in.StreamName, StreamARN: in.StreamARN},
		EnforceConsumerDeletion: in.EnforceConsumerDeletion,
	})
}
