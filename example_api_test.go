package shardlog_test

import (
	"context"
	"fmt"

	"github.com/shardlog/shardlog"
)

// countOrders is application code written against StreamAPI: it runs on
// an embedded stream, as here, and on Amazon Kinesis through the aws
// module's Stream, unchanged.
func countOrders(ctx context.Context, s shardlog.StreamAPI) (int, error) {
	shards, err := s.ListShards(ctx, shardlog.ListShardsInput{})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sh := range shards.Shards {
		it, err := s.GetShardIterator(ctx, sh.ShardID, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
		if err != nil {
			return 0, err
		}
		for it != "" {
			page, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
			if err != nil {
				return 0, err
			}
			n += len(page.Records)
			if len(page.Records) == 0 {
				break
			}
			it = page.NextShardIterator
		}
	}
	return n, nil
}

func ExampleStreamAPI() {
	ctx := context.Background()
	acct, err := shardlog.NewAccount()
	if err != nil {
		panic(err)
	}
	defer acct.Close()
	var s shardlog.StreamAPI // on AWS: aws.Open(ctx, kinesisClient, shardlog.StreamRef{StreamName: "orders"})
	if s, err = acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 2}); err != nil {
		panic(err)
	}
	batch := []shardlog.PutInput{
		{PartitionKey: "customer-1", Data: []byte("order #1")},
		{PartitionKey: "customer-2", Data: []byte("order #2")},
		{PartitionKey: "customer-1", Data: []byte("order #3")},
	}
	if _, err := s.PutBatch(ctx, batch); err != nil {
		panic(err)
	}
	n, err := countOrders(ctx, s)
	if err != nil {
		panic(err)
	}
	fmt.Println(n, "orders")
	// Output: 3 orders
}
