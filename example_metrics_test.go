package shardlog_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shardlog/shardlog"
)

// A test asserts what a CloudWatch dashboard would show: here, that a
// producer over its shard's limit of two records a second was throttled
// once, per minute of the manual clock.
func ExampleAccount_GetMetricStatistics() {
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := shardlog.NewManualClock(start)
	acct, _ := shardlog.NewAccount(shardlog.WithClock(clock),
		shardlog.WithLimits(shardlog.Limits{WriteBytesPerSecond: 1 << 20, WriteRecordsPerSecond: 2}))
	defer acct.Close()
	s, _ := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 1})
	for i := range 3 {
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: fmt.Append(nil, i)})
		if errors.Is(err, shardlog.ErrProvisionedThroughputExceeded) {
			fmt.Println("put", i, "throttled")
		}
	}
	clock.Advance(time.Minute)
	for _, name := range []string{"IncomingRecords", "WriteProvisionedThroughputExceeded"} {
		out, err := acct.GetMetricStatistics(ctx, shardlog.MetricStatisticsInput{
			MetricName: name,
			Dimensions: []shardlog.Dimension{{Name: "StreamName", Value: "orders"}},
			StartTime:  start,
			EndTime:    clock.Now(),
			Period:     time.Minute,
		})
		if err != nil {
			panic(err)
		}
		for _, dp := range out.Datapoints {
			fmt.Printf("%s at %s: Sum %v over %v calls\n", name, dp.Timestamp.Format("15:04"), dp.Sum, dp.SampleCount)
		}
	}
	// Output:
	// put 2 throttled
	// IncomingRecords at 12:00: Sum 2 over 2 calls
	// WriteProvisionedThroughputExceeded at 12:00: Sum 1 over 3 calls
}

// Read two series at once, each by its own statistic, as a dashboard
// does with CloudWatch's GetMetricData.
func ExampleAccount_GetMetricData() {
	start := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	clock := shardlog.NewManualClock(start)
	acct, _ := shardlog.NewAccount(shardlog.WithClock(clock))
	defer acct.Close()
	s, _ := acct.CreateStream(context.Background(), shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 1})
	for minute := range 3 {
		for range minute + 1 {
			_, _ = s.Put(context.Background(), shardlog.PutInput{PartitionKey: "k", Data: []byte("order")})
		}
		clock.Advance(time.Minute)
	}
	orders := []shardlog.Dimension{{Name: "StreamName", Value: "orders"}}
	out, _ := acct.GetMetricData(context.Background(), shardlog.MetricDataInput{
		StartTime: start, EndTime: clock.Now(),
		Queries: []shardlog.MetricDataQuery{
			{MetricName: "IncomingRecords", Dimensions: orders, Period: time.Minute, Stat: "Sum"},
			{MetricName: "IncomingBytes", Dimensions: orders, Period: 3 * time.Minute, Stat: "Maximum"},
		},
	})
	fmt.Println("records per minute:", out.Results[0].Values)
	fmt.Println("largest put, bytes:", out.Results[1].Values)
	// Output:
	// records per minute: [1 2 3]
	// largest put, bytes: [6]
}
