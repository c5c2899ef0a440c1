package producer_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/producer"
)

// BenchmarkPut puts 100-byte records over 1 000 keys into an embedded
// stream of 8 shards, without limits, and flushes: user records a second,
// with aggregation off and on.
func BenchmarkPut(b *testing.B) {
	for _, agg := range []bool{false, true} {
		b.Run("aggregation="+strconv.FormatBool(agg), func(b *testing.B) {
			ctx := context.Background()
			acct, err := shardlog.NewAccount(shardlog.WithoutLimits(), shardlog.WithShardLimit(100))
			if err != nil {
				b.Fatal(err)
			}
			defer acct.Close()
			s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 8})
			if err != nil {
				b.Fatal(err)
			}
			p, err := producer.New(s, producer.Config{Aggregation: agg, RateLimit: -1, MaxBufferedTime: 10 * time.Millisecond})
			if err != nil {
				b.Fatal(err)
			}
			keys := make([]string, 1000)
			for i := range keys {
				keys[i] = "key-" + strconv.Itoa(i)
			}
			data := make([]byte, 100)
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				if _, err := p.Put(ctx, keys[i%len(keys)], data); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Close(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
		})
	}
}
