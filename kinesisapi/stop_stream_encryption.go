package kinesisapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

func stopStreamEncryption(ctx context.Context, a *shardlog.Account, in *encryptionInput) (any, error) {
	s, err := in.stream(ctx, a)
	if err != nil {
		return nil, err
	}
	return empty{}, s.StopStreamEncryption(ctx, shardlog.EncryptionType(in.EncryptionType), in.KeyId)
}
