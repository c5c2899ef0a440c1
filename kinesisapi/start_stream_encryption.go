package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

type encryptionInput struct {
	streamRef
	EncryptionType string `json:"EncryptionType"`
	KeyId          string `json:"KeyId"`
}

func startStreamEncryption(ctx context.Context, a *shardlog.Account, in *encryptionInput) (any, error) {
	s, err := in.stream(ctx, a)
	if err != nil {
		return nil, err
	}
	return empty{}, s.StartStreamEncryption(ctx, shardlog.EncryptionType(in.EncryptionType), in.KeyId)
}
