package shardlog_test

import (
	"encoding/binary"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
)

// fanOut returns a one-shard stream, limits off, and n subscriptions to it
// from LATEST.
func fanOut(b *testing.B, n int) (*shardlog.Stream, []*shardlog.Subscription) {
	s, err := shardlog.NewStream("fanout", 1, shardlog.WithoutLimits())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	var subs []*shardlog.Subscription
	for i := 0; i < n; i++ {
		c, err := s.RegisterStreamConsumer(ctx, string(rune('a'+i)))
		if err != nil {
			b.Fatal(err)
		}
		sub, err := s.Account().SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardID: "shardId-000000000000", StartingPosition: shardlog.StartingPosition{Type: shardlog.Latest}})
		if err != nil {
			b.Fatal(err)
		}
		subs = append(subs, sub)
	}
	return s, subs
}

// BenchmarkFanOut: one producer, one shard, four subscribers that each
// receive every 100-byte record; one op is one record put and delivered to
// all four.
func BenchmarkFanOut(b *testing.B) {
	s, subs := fanOut(b, 4)
	var wg sync.WaitGroup
	for _, sub := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for got := 0; got < b.N; {
				ev, ok := <-sub.Events()
				if !ok {
					b.Error(sub.Err())
					return
				}
				got += len(ev.Records)
			}
		}()
	}
	keys := benchKeys()
	data := make([]byte, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: keys[i&1023], Data: data}); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkFanOutEvent: one subscriber that receives each record in an
// event of its own before the next is put; one op is one event delivered,
// so allocs/op is allocations per event.
func BenchmarkFanOutEvent(b *testing.B) {
	s, subs := fanOut(b, 1)
	data := make([]byte, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: data}); err != nil {
			b.Fatal(err)
		}
		for got := 0; got == 0; {
			ev, ok := <-subs[0].Events()
			if !ok {
				b.Fatal(subs[0].Err())
			}
			got = len(ev.Records)
		}
	}
}

// BenchmarkFanOutLatency paces the producer at 10 000 records/s and reports
// the time from Put to receipt, over all four subscribers, as p50 and p99.
func BenchmarkFanOutLatency(b *testing.B) {
	s, subs := fanOut(b, 4)
	base := time.Now()
	lat := make([][]time.Duration, len(subs))
	var wg sync.WaitGroup
	for i, sub := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for got := 0; got < b.N; {
				ev, ok := <-sub.Events()
				if !ok {
					b.Error(sub.Err())
					return
				}
				now := time.Since(base)
				for _, r := range ev.Records {
					lat[i] = append(lat[i], now-time.Duration(binary.LittleEndian.Uint64(r.Data)))
				}
				got += len(ev.Records)
			}
		}()
	}
	const interval = 100 * time.Microsecond // 10 000 records/s
	b.ResetTimer()
	due := time.Since(base)
	for i := 0; i < b.N; i++ {
		if wait := due - time.Since(base); wait > 0 {
			time.Sleep(wait)
		}
		due += interval
		data := make([]byte, 100)
		binary.LittleEndian.PutUint64(data, uint64(time.Since(base)))
		if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: data}); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
}
