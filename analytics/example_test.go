package analytics_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/analytics"
)

// Views per page per minute, in event time: each line of the stream is
// "<page> <RFC 3339 time>".
func Example() {
	acct, _ := shardlog.NewAccount()
	defer acct.Close()
	ctx := context.Background()
	clicks, _ := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "clicks", ShardCount: 1})

	type view struct {
		page string
		at   time.Time
	}
	results := make(chan analytics.Result[string, int64])
	job, err := analytics.New(analytics.Config[view, string, int64, int64]{
		Name:    "views",
		Sources: []shardlog.StreamAPI{clicks},
		Store:   analytics.MemoryStore(),
		Decode: func(r shardlog.UserRecord) (view, error) {
			page, at, _ := strings.Cut(string(r.Data), " ")
			t, err := time.Parse(time.RFC3339, at)
			return view{page, t}, err
		},
		Key:       func(v view) string { return v.page },
		EventTime: func(v view) time.Time { return v.at },
		Window:    analytics.Tumbling(time.Minute),
		Aggregate: analytics.Count[view](),
		Output: analytics.OutputFunc[string, int64](func(_ context.Context, rs []analytics.Result[string, int64]) error {
			for _, r := range rs {
				results <- r
			}
			return nil
		}),
	})
	if err != nil {
		panic(err)
	}
	run, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- job.Run(run) }()

	for _, line := range []string{
		"home 2026-03-01T12:00:05Z", "cart 2026-03-01T12:00:20Z", "home 2026-03-01T12:00:59Z",
		"home 2026-03-01T12:01:30Z", // the watermark passes 12:01: the first minute's windows fire
	} {
		clicks.Put(ctx, shardlog.PutInput{PartitionKey: "user-1", Data: []byte(line)})
	}
	for range 2 {
		r := <-results
		fmt.Printf("%s %s-%s %d\n", r.Key, r.Start.Format("15:04"), r.End.Format("15:04"), r.Value)
	}
	stop()
	<-done
	// Unordered output:
	// home 12:00-12:01 2
	// cart 12:00-12:01 1
}
