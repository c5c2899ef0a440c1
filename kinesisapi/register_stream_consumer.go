package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type registerStreamConsumerInput struct {
	StreamARN    string `json:"StreamARN"`
	ConsumerName string `json:"ConsumerName"`
}

type consumerOutput struct {
	Consumer wireConsumer `json:"Consumer"`
}

func registerStreamConsumer(ctx context.Context, a *shardlog.Account, in *registerStreamConsumerInput) (any, error) {
	s, err := lookup(ctx, a, shardlog.StreamRef{StreamARN: in.StreamARN})
	if err != nil {
		return nil, err
	}
	c, err := s.RegisterStreamConsumer(ctx, in.ConsumerName)
	if err != nil {
		return nil, err
	}
	return consumerOutput{consumer(c, false)}, nil
}
