package firehoseapi_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehoseapi"
)

// TestAccessControl: with access control on, requests are signed for the
// service firehose and a caller needs firehose:<Operation> on the
// delivery stream.
func TestAccessControl(t *testing.T) {
	clk := shardlog.NewManualClock(time.Now().UTC().Truncate(time.Second)) // the SDK signs with the wall clock
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithAccountID("123456789012"),
		shardlog.WithAccessControl(), shardlog.WithLogger(quiet))
	require.NoError(t, err)
	defer acct.Close()
	admin := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"firehose:*","Resource":"*"}]}`
	producer := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["firehose:PutRecord","firehose:PutRecordBatch"],
		"Resource":"arn:aws:firehose:us-east-1:123456789012:deliverystream/clicks"}]}`
	require.NoError(t, acct.PutPrincipal("arn:aws:iam::123456789012:user/admin", admin))
	require.NoError(t, acct.PutAccessKey("ADMIN", "admin-secret", "arn:aws:iam::123456789012:user/admin"))
	require.NoError(t, acct.PutPrincipal("arn:aws:iam::123456789012:user/producer", producer))
	require.NoError(t, acct.PutAccessKey("PRODUCER", "producer-secret", "arn:aws:iam::123456789012:user/producer"))

	srv, err := firehoseapi.New(firehoseapi.Config{Kinesis: acct, Buckets: t.TempDir(), Logger: quiet})
	require.NoError(t, err)
	hs := newServer(t, srv)
	as := func(id, secret string) *firehose.Client {
		return firehose.New(firehose.Options{BaseEndpoint: aws.String(hs.URL), Region: "us-east-1", RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
	}
	adminC, producerC := as("ADMIN", "admin-secret"), as("PRODUCER", "producer-secret")

	for _, name := range []string{"clicks", "orders"} {
		_, err = adminC.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String(name), ExtendedS3DestinationConfiguration: s3Config("lake")})
		require.NoError(t, err)
	}
	_, err = producerC.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("clicks"), Record: &types.Record{Data: []byte("x")}})
	require.NoError(t, err)
	_, err = producerC.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("orders"), Record: &types.Record{Data: []byte("x")}})
	require.Equal(t, "AccessDeniedException", code(err))
	_, err = producerC.DeleteDeliveryStream(ctx, &firehose.DeleteDeliveryStreamInput{DeliveryStreamName: aws.String("clicks")})
	require.Equal(t, "AccessDeniedException", code(err))
	_, err = producerC.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
	require.Equal(t, "AccessDeniedException", code(err))
	_, err = as("ADMIN", "wrong").ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
	require.Equal(t, "InvalidSignatureException", code(err))
	_, err = as("NOBODY", "x").ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
	require.Equal(t, "UnrecognizedClientException", code(err))
	list, err := adminC.ListDeliveryStreams(ctx, &firehose.ListDeliveryStreamsInput{})
	require.NoError(t, err)
	require.Equal(t, []string{"clicks", "orders"}, list.DeliveryStreamNames)
}
