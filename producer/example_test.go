package producer_test

import (
	"context"
	"fmt"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/producer"
)

// Produce into an embedded stream: Put returns at once, records go out in
// batches (aggregated here), and each Result says where its record is.
func ExampleNew() {
	ctx := context.Background()
	acct, _ := shardlog.NewAccount(shardlog.WithoutLimits())
	defer acct.Close()
	s, _ := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 2})

	p, err := producer.New(s, producer.Config{Aggregation: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	var results []*producer.Result
	for i := range 100 {
		r, err := p.Put(ctx, fmt.Sprintf("customer-%d", i%10), []byte("order"))
		if err != nil {
			fmt.Println(err)
			return
		}
		results = append(results, r)
	}
	if err := p.Close(ctx); err != nil { // sends what is buffered, then stops
		fmt.Println(err)
		return
	}
	stored := 0
	for _, r := range results {
		if r.Err == nil {
			stored++
		}
	}
	fmt.Println("stored:", stored)
	// Output: stored: 100
}
