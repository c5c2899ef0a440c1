package streamsql_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/analytics"
	"github.com/shardlog/shardlog/analytics/streamsql"
)

// A query in the style of Data Analytics SQL, over JSON records with an
// event-time column.
func Example() {
	acct, _ := shardlog.NewAccount()
	defer acct.Close()
	ctx := context.Background()
	trades, _ := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "trades", ShardCount: 1})

	q, err := streamsql.Parse(`
		SELECT STREAM ticker, COUNT(*) AS trades, MIN(price) AS low, MAX(price) AS high
		FROM "trades"
		WHERE price > 0
		GROUP BY ticker, TUMBLE(at, INTERVAL '1' MINUTE)`)
	if err != nil {
		panic(err)
	}
	rows := make(chan streamsql.Row)
	job, err := streamsql.NewJob(q, streamsql.Config{
		Name: "prices", Sources: []shardlog.StreamAPI{trades}, Store: analytics.MemoryStore(),
		Output: analytics.OutputFunc[string, streamsql.Row](func(_ context.Context, rs []analytics.Result[string, streamsql.Row]) error {
			for _, r := range rs {
				rows <- r.Value
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
	for _, t := range []string{
		`{"ticker":"AMZN","price":181.5,"at":"2026-03-01T12:00:01Z"}`,
		`{"ticker":"AMZN","price":182.25,"at":"2026-03-01T12:00:31Z"}`,
		`{"ticker":"AMZN","price":0,"at":"2026-03-01T12:00:40Z"}`,
		`{"ticker":"AMZN","price":183,"at":"2026-03-01T12:01:02Z"}`,
	} {
		trades.Put(ctx, shardlog.PutInput{PartitionKey: "AMZN", Data: []byte(t)})
	}
	b, _ := json.Marshal(<-rows)
	fmt.Println(string(b))
	stop()
	<-done
	// Output:
	// {"TICKER":"AMZN","TRADES":2,"LOW":181.5,"HIGH":182.25}
}
