package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type consumerRef struct {
	StreamARN    string `json:"StreamARN"`
	ConsumerName string `json:"ConsumerName"`
	ConsumerARN  string `json:"ConsumerARN"`
}

type describeStreamConsumerOutput struct {
	ConsumerDescription wireConsumer `json:"ConsumerDescription"`
}

func describeStreamConsumer(ctx context.Context, a *shardlog.Account, in *consumerRef) (any, error) {
	c, err := a.DescribeStreamConsumer(ctx, shardlog.ConsumerRef(*in))
	if err != nil {
		return nil, err
	}
	return describeStreamConsumerOutput{consumer(c, true)}, nil
}
