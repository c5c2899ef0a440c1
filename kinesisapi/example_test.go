package kinesisapi_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/kinesisapi"
)

// The AWS SDK for Go, unchanged, against an account served over HTTP: in a
// test, with httptest; in a service, with shardlogd.
func ExampleNewHandler() {
	ctx := context.Background()
	acct, err := shardlog.NewAccount()
	if err != nil {
		panic(err)
	}
	defer acct.Close()
	srv := httptest.NewServer(kinesisapi.NewHandler(acct))
	defer srv.Close()

	client := kinesis.New(kinesis.Options{
		BaseEndpoint: aws.String(srv.URL),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("any", "any", ""),
	})
	if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("orders"), ShardCount: aws.Int32(1)}); err != nil {
		panic(err)
	}
	put, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("orders"), PartitionKey: aws.String("customer-7"), Data: []byte("order #1")})
	if err != nil {
		panic(err)
	}
	it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String("orders"), ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		panic(err)
	}
	out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		panic(err)
	}
	for _, r := range out.Records {
		fmt.Printf("%s %s: %s\n", *put.ShardId, *r.PartitionKey, r.Data)
	}
	// Output: shardId-000000000000 customer-7: order #1
}
