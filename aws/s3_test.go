package aws_test

import (
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/aws"
	"github.com/shardlog/shardlog/firehose"
	"github.com/shardlog/shardlog/firehose/firehosetest"
)

// s3Server starts an S3-compatible server (gofakes3, in memory) on
// loopback with the bucket, and returns a client of it.
func s3Server(t *testing.T, bucket string) *s3.Client {
	t.Helper()
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	if bucket != "" {
		require.NoError(t, backend.CreateBucket(bucket))
	}
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: sdk.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
}

// TestS3Destination: a delivery stream's objects land in a bucket of a
// real S3-compatible server, through the SDK, under Firehose's keys.
func TestS3Destination(t *testing.T) {
	client := s3Server(t, "bucket")
	firehosetest.Deliver(t, firehose.Config{Destination: aws.S3Destination{Client: client, Bucket: "bucket"}, Prefix: "orders/"},
		[]string{"a\n", "b\n"}, func(tot firehose.Totals) bool { return tot.DeliveredRecords == 2 })
	list, err := client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: sdk.String("bucket")})
	require.NoError(t, err)
	require.Len(t, list.Contents, 1)
	key := *list.Contents[0].Key
	require.Regexp(t, `^orders/\d{4}/\d{2}/\d{2}/\d{2}/orders-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}$`, key)
	obj, err := client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: sdk.String("bucket"), Key: sdk.String(key)})
	require.NoError(t, err)
	defer obj.Body.Close()
	body, err := io.ReadAll(obj.Body)
	require.NoError(t, err)
	require.Equal(t, "a\nb\n", string(body))
}

// TestS3DestinationFailsToBackup: a bucket that does not exist fails every
// put; past the retry duration the object goes to the backup, not away.
func TestS3DestinationFailsToBackup(t *testing.T) {
	client := s3Server(t, "")
	backup := t.TempDir()
	firehosetest.Deliver(t, firehose.Config{Destination: aws.S3Destination{Client: client, Bucket: "missing"}, Backup: firehose.Dir(backup),
		RetryDuration: time.Second}, []string{"kept\n"}, func(tot firehose.Totals) bool { return tot.BackedUp == 1 })
	matches, err := filepath.Glob(filepath.Join(backup, "delivery-failed", "*", "*", "*", "*", "orders-1-*"))
	require.NoError(t, err)
	require.Len(t, matches, 1)
	require.True(t, strings.Contains(matches[0], "delivery-failed"))
}
