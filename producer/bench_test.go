package producer_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/memstat"
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

// BenchmarkBufferingLatency puts records at 10 000 a second (real time)
// and reports the time from Put to the Result, p50 and p99, with the
// default linger of 100 ms: the KPL's target is linger plus a few
// milliseconds. Run with -benchtime 20000x (two seconds).
func BenchmarkBufferingLatency(b *testing.B) {
	ctx := context.Background()
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits())
	if err != nil {
		b.Fatal(err)
	}
	defer acct.Close()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 4})
	if err != nil {
		b.Fatal(err)
	}
	p, err := producer.New(s, producer.Config{Aggregation: true})
	if err != nil {
		b.Fatal(err)
	}
	type sent struct {
		at  time.Time
		res *producer.Result
	}
	results := make(chan sent, 1<<16)
	latencies := make(chan []time.Duration, 1)
	go func() { // waits for each in turn: a record done before the one ahead counts a little late
		var out []time.Duration
		for r := range results {
			<-r.res.Done()
			out = append(out, time.Since(r.at))
		}
		latencies <- out
	}()
	data := make([]byte, 100)
	tick := time.NewTicker(time.Millisecond) // ten records a tick: timers are coarser than 100 µs
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		if i%10 == 0 {
			<-tick.C
		}
		at := time.Now()
		r, err := p.Put(ctx, strconv.Itoa(i%1000), data)
		if err != nil {
			b.Fatal(err)
		}
		results <- sent{at, r}
	}
	close(results)
	got := <-latencies
	b.StopTimer()
	if err := p.Close(ctx); err != nil {
		b.Fatal(err)
	}
	slices.Sort(got)
	b.ReportMetric(float64(got[len(got)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(got[len(got)*99/100])/1e6, "p99-ms")
}

// BenchmarkBufferedHeap reports the heap a buffered record of 100 bytes
// takes while it waits for its PutRecords call, what MaxBufferedRecords
// and MaxBufferedBytes bound: the clock stands still, so none lingers out,
// and fewer are put than fill a call (499 records; with aggregation, 40 000
// in aggregates of up to 1 MiB, under a call's 5 MiB).
func BenchmarkBufferedHeap(b *testing.B) {
	for _, agg := range []bool{false, true} {
		b.Run("aggregation="+strconv.FormatBool(agg), func(b *testing.B) {
			ctx := context.Background()
			clk := shardlog.NewManualClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
			acct, err := shardlog.NewAccount(shardlog.WithoutLimits(), shardlog.WithClock(clk))
			if err != nil {
				b.Fatal(err)
			}
			defer acct.Close()
			s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 1})
			if err != nil {
				b.Fatal(err)
			}
			buffered, cfg := 499, producer.Config{Clock: clk, MaxBufferedTime: time.Hour, RateLimit: -1}
			if agg {
				buffered, cfg.Aggregation, cfg.AggregationMaxSize = 40_000, true, 1<<20
			}
			data := make([]byte, 100)
			for range b.N {
				p, err := producer.New(s, cfg)
				if err != nil {
					b.Fatal(err)
				}
				results := make([]*producer.Result, buffered)
				before := memstat.HeapAlloc()
				for i := range buffered {
					if results[i], err = p.Put(ctx, strconv.Itoa(i%1000), data); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(memstat.HeapAlloc()-before)/float64(buffered), "heap-B/record")
				for _, r := range results {
					if r.Finished() {
						b.Fatal("a record was sent: the measure is of buffered ones")
					}
				}
				if err := p.Close(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
