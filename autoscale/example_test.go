package autoscale_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/autoscale"
)

// An autoscaler splits a shard that stays hot; here, on a manual clock,
// one written at nine tenths of its limit for three minutes.
func Example() {
	ctx := context.Background()
	clk := shardlog.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	acct, _ := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithLimits(shardlog.Limits{WriteRecordsPerSecond: 10}))
	defer acct.Close()
	stream, _ := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 1})

	scaler, _ := autoscale.New(stream, autoscale.Config{Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	for range 3 { // three looks, a minute apart
		for range 60 {
			for i := range 9 {
				stream.Put(ctx, shardlog.PutInput{PartitionKey: fmt.Sprint("user-", i), Data: []byte("event")})
			}
			clk.Advance(time.Second)
		}
		scaler.Look(ctx)
	}
	for _, d := range scaler.Decisions() {
		fmt.Println(d.Action, d.Shards)
	}
	summary, _ := stream.DescribeStreamSummary(ctx)
	fmt.Println("open shards:", summary.OpenShardCount)
	// Output:
	// split [shardId-000000000000]
	// open shards: 2
}
