package kinesisapi_test

import (
	"bufio"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// TestSubscribeToShardStreamStaysOpen subscribes with a plain HTTP client,
// many times, and reads the initial response and an event per record put:
// the server never drops the stream.
func TestSubscribeToShardStreamStaysOpen(t *testing.T) {
	for i := 0; i < 20; i++ {
		c, _, _ := setup(t)
		create(t, c, "s", 1)
		arn := aws.String("arn:aws:kinesis:us-east-1:123456789012:stream/s")
		reg, _ := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: arn, ConsumerName: aws.String("app")})
		url := *c.Options().BaseEndpoint
		req, _ := http.NewRequest("POST", url, strings.NewReader(`{"ConsumerARN":"`+*reg.Consumer.ConsumerARN+`","ShardId":"shardId-000000000000","StartingPosition":{"Type":"TRIM_HORIZON"}}`))
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.SubscribeToShard")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		readFrame := func() error {
			var pre [4]byte
			if _, err := io.ReadFull(br, pre[:]); err != nil {
				return err
			}
			rest := make([]byte, binary.BigEndian.Uint32(pre[:])-4)
			_, err := io.ReadFull(br, rest)
			return err
		}
		if err := readFrame(); err != nil {
			t.Fatalf("run %d initial: %v", i, err)
		}
		for j := 0; j < 3; j++ {
			c.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: arn, PartitionKey: aws.String("k"), Data: []byte("x")})
			if err := readFrame(); err != nil {
				t.Fatalf("run %d event %d: %v", i, j, err)
			}
		}
		resp.Body.Close()
	}
}
