package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

func deregisterStreamConsumer(ctx context.Context, a *shardlog.Account, in *consumerRef) (any, error) {
	return empty{}, a.DeregisterStreamConsumer(ctx, shardlog.ConsumerRef(*in))
}
