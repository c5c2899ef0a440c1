package kinesisapi_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/kinesisapi"
)

// logServer serves an account with a request log and a drain context.
// Each log also goes to the returned channel.
func logServer(t *testing.T) (*kinesis.Client, *shardlog.Account, func() []kinesisapi.RequestLog, <-chan kinesisapi.RequestLog, context.CancelFunc) {
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits())
	require.NoError(t, err)
	var mu sync.Mutex
	var logs []kinesisapi.RequestLog
	each := make(chan kinesisapi.RequestLog, 64)
	drain, startDrain := context.WithCancel(context.Background())
	srv := httptest.NewServer(kinesisapi.NewHandler(acct, kinesisapi.WithDrain(drain), kinesisapi.WithRequestLog(func(l kinesisapi.RequestLog) {
		mu.Lock()
		logs = append(logs, l)
		mu.Unlock()
		each <- l
	}), kinesisapi.WithUnsignedRequests()))
	t.Cleanup(func() {
		startDrain()
		srv.Close()
		acct.Close()
	})
	client := kinesis.New(kinesis.Options{BaseEndpoint: aws.String(srv.URL), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("x", "x", ""), RetryMaxAttempts: 1, HTTPClient: sdkClient(srv.Client())})
	return client, acct, func() []kinesisapi.RequestLog {
		mu.Lock()
		defer mu.Unlock()
		return append([]kinesisapi.RequestLog(nil), logs...)
	}, each, startDrain
}

// TestRequestLog: each request is reported with its operation, stream,
// status and exception.
func TestRequestLog(t *testing.T) {
	c, _, logs, _, _ := logServer(t)
	create(t, c, "orders", 1)
	require.NoError(t, errOf(c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String("orders"),
		Records: []types.PutRecordsRequestEntry{{PartitionKey: aws.String("k"), Data: []byte("x")}}})))
	_, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("missing"), PartitionKey: aws.String("k"), Data: []byte("x")})
	require.Error(t, err)
	got := logs()
	require.Len(t, got, 3)
	want := []kinesisapi.RequestLog{
		{Operation: "CreateStream", Stream: "orders", Status: 200},
		{Operation: "PutRecords", Stream: "orders", Status: 200},
		{Operation: "PutRecord", Stream: "missing", Status: 400, Error: "ResourceNotFoundException"},
	}
	for i, l := range got {
		require.Positive(t, l.Duration)
		require.NotEmpty(t, l.Remote)
		l.Duration, l.Remote = 0, ""
		require.Equal(t, want[i], l)
	}
}

// TestDrainEndsSubscriptionsCleanly: once the drain starts, an open
// SubscribeToShard stream ends without an error, as when its five minutes
// are up, and is logged.
func TestDrainEndsSubscriptionsCleanly(t *testing.T) {
	c, acct, _, each, drain := logServer(t)
	create(t, c, "s", 1)
	s, err := acct.Stream(shardlog.StreamRef{StreamName: "s"})
	require.NoError(t, err)
	consumer, err := s.RegisterStreamConsumer(ctx, "app")
	require.NoError(t, err)
	out, err := kinesis.New(c.Options()).SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{ConsumerARN: aws.String(consumer.ConsumerARN),
		ShardId: aws.String("shardId-000000000000"), StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	require.NoError(t, err)
	stream := out.GetStream()
	defer stream.Close()
	drain()
	deadline := time.After(10 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-stream.Events():
		case <-deadline:
			t.Fatal("the stream did not end")
		}
	}
	require.NoError(t, stream.Err())
	for {
		select {
		case l := <-each:
			if l.Operation == "SubscribeToShard" {
				require.Equal(t, "s", l.Stream)
				require.Equal(t, 200, l.Status)
				return
			}
		case <-deadline:
			t.Fatal("the subscription was not logged")
		}
	}
}
