package aws

import (
	"bytes"
	"context"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Destination is a firehose.Destination that puts each object into an
// S3 bucket (or any S3-compatible store the client points at), under its
// key: a delivery stream's ExtendedS3 destination. An error, the SDK's
// retries spent, has the delivery stream retry the object.
type S3Destination struct {
	Client *s3.Client
	Bucket string
}

// Put stores body as the object key.
func (d S3Destination) Put(ctx context.Context, key string, body []byte) error {
	_, err := d.Client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        sdk.String(d.Bucket),
		Key:           sdk.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: sdk.Int64(int64(len(body))),
	})
	return err
}
