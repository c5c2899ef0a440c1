package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

// The resource-based policy operations, on a stream or consumer ARN.

type resourcePolicyInput struct {
	ResourceARN string `json:"ResourceARN"`
	Policy      string `json:"Policy"`
}

type getResourcePolicyOutput struct {
	Policy string `json:"Policy"`
}

func putResourcePolicy(ctx context.Context, a *shardlog.Account, in *resourcePolicyInput) (any, error) {
	return empty{}, a.PutResourcePolicy(ctx, in.ResourceARN, in.Policy)
}

func getResourcePolicy(ctx context.Context, a *shardlog.Account, in *resourcePolicyInput) (any, error) {
	p, err := a.GetResourcePolicy(ctx, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return getResourcePolicyOutput{Policy: p}, nil
}

func deleteResourcePolicy(ctx context.Context, a *shardlog.Account, in *resourcePolicyInput) (any, error) {
	return empty{}, a.DeleteResourcePolicy(ctx, in.ResourceARN)
}
