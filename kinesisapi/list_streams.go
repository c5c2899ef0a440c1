package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type listStreamsInput struct {
	Limit                    int    `json:"Limit"`
	ExclusiveStartStreamName string `json:"ExclusiveStartStreamName"`
	NextToken                string `json:"NextToken"`
}

type streamSummary struct {
	StreamName              string            `json:"StreamName"`
	StreamARN               string            `json:"StreamARN"`
	StreamStatus            string            `json:"StreamStatus"`
	StreamModeDetails       streamModeDetails `json:"StreamModeDetails"`
	StreamCreationTimestamp epoch             `json:"StreamCreationTimestamp"`
}

type listStreamsOutput struct {
	StreamNames     []string        `json:"StreamNames"`
	HasMoreStreams  bool            `json:"HasMoreStreams"`
	NextToken       string          `json:"NextToken,omitempty"`
	StreamSummaries []streamSummary `json:"StreamSummaries"`
}

func listStreams(ctx context.Context, a *shardlog.Account, in *listStreamsInput) (any, error) {
	out, err := a.ListStreams(ctx, shardlog.ListStreamsInput(*in))
	if err != nil {
		return nil, err
	}
	w := listStreamsOutput{StreamNames: out.StreamNames, HasMoreStreams: out.HasMoreStreams, NextToken: out.NextToken, StreamSummaries: []streamSummary{}}
	for _, s := range out.StreamSummaries {
		w.StreamSummaries = append(w.StreamSummaries, streamSummary{
			StreamName:              s.StreamName,
			StreamARN:               s.StreamARN,
			StreamStatus:            string(s.StreamStatus),
			StreamModeDetails:       streamModeDetails{StreamMode: string(s.StreamMode)},
			StreamCreationTimestamp: epoch{s.StreamCreationTimestamp},
		})
	}
	return w, nil
}
