package firehoseapi_test

import (
	"fmt"
	"net/http/httptest"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehoseapi"
)

// Serve Firehose's API in a test and use it with the AWS SDK's Firehose
// client: the delivery stream delivers to a folder per bucket.
func Example() {
	acct, _ := shardlog.NewAccount()
	defer acct.Close()
	buckets, _ := os.MkdirTemp("", "buckets")
	defer os.RemoveAll(buckets)
	srv, err := firehoseapi.New(firehoseapi.Config{Kinesis: acct, Buckets: buckets, Logger: quiet})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()

	client := firehose.New(firehose.Options{BaseEndpoint: aws.String(hs.URL), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("id", "secret", "")})
	out, err := client.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("clicks"),
		ExtendedS3DestinationConfiguration: &types.ExtendedS3DestinationConfiguration{
			BucketARN: aws.String("arn:aws:s3:::lake"), RoleARN: aws.String("arn:aws:iam::000000000000:role/firehose")},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(*out.DeliveryStreamARN)
	_, err = client.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("clicks"), Record: &types.Record{Data: []byte("hello\n")}})
	fmt.Println(err)
	// Output:
	// arn:aws:firehose:us-east-1:000000000000:deliverystream/clicks
	// <nil>
}
