package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type listStreamConsumersInput struct {
	StreamARN               string `json:"StreamARN"`
	NextToken               string `json:"NextToken"`
	MaxResults              int    `json:"MaxResults"`
	StreamCreationTimestamp *epoch `json:"StreamCreationTimestamp"`
}

type listStreamConsumersOutput struct {
	Consumers []wireConsumer `json:"Consumers"`
	NextToken string         `json:"NextToken,omitempty"`
}

func listStreamConsumers(ctx context.Context, a *shardlog.Account, in *listStreamConsumersInput) (any, error) {
	s, err := lookup(ctx, a, shardlog.StreamRef{StreamARN: in.StreamARN})
	if err != nil {
		return nil, err
	}
	out, err := s.ListStreamConsumers(ctx, shardlog.ListStreamConsumersInput{
		MaxResults: in.MaxResults, NextToken: in.NextToken, StreamCreationTimestamp: ts(in.StreamCreationTimestamp),
	})
	if err != nil {
		return nil, err
	}
	w := listStreamConsumersOutput{Consumers: []wireConsumer{}, NextToken: out.NextToken}
	for _, c := range out.Consumers {
		w.Consumers = append(w.Consumers, consumer(c, false))
	}
	return w, nil
}
