package analytics_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/analytics"
)

// The benchmarks count events per key in one-minute tumbling windows:
// 10 000 keys, 1 000 000 events spread over 10 minutes of event time (ten
// per key and window), in
// records of 12 bytes (the key's number and the event time) on an embedded
// stream of 2 shards.
const (
	benchKeys   = 10000
	benchEvents = 1000000
	benchSpan   = 10 * time.Minute
)

type tick struct {
	key uint32
	at  int64 // Unix nanoseconds
}

func decodeTick(u shardlog.UserRecord) (tick, error) {
	if len(u.Data) != 12 {
		return tick{}, fmt.Errorf("a record of %d bytes", len(u.Data))
	}
	return tick{key: binary.BigEndian.Uint32(u.Data), at: int64(binary.BigEndian.Uint64(u.Data[4:]))}, nil
}

func tickKey(e tick) uint32     { return e.key }
func tickTime(e tick) time.Time { return time.Unix(0, e.at) }
func tickMinute(e tick) int64   { return e.at / int64(time.Minute) }

// benchStream fills a stream with the benchmark's events.
func benchStream(b *testing.B) (*shardlog.Account, *shardlog.Stream) {
	b.Helper()
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { acct.Close() })
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "ticks", ShardCount: 2})
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]shardlog.PutInput, 0, 500)
	for i := range benchEvents {
		data := make([]byte, 12)
		binary.BigEndian.PutUint32(data, uint32(i%benchKeys))
		binary.BigEndian.PutUint64(data[4:], uint64(t0.Add(benchSpan*time.Duration(i)/benchEvents).UnixNano()))
		batch = append(batch, shardlog.PutInput{PartitionKey: fmt.Sprint(i % 64), Data: data})
		if len(batch) == cap(batch) {
			out, err := s.PutBatch(ctx, batch)
			if err != nil || out.FailedRecordCount > 0 {
				b.Fatal(err, out.FailedRecordCount)
			}
			batch = batch[:0]
		}
	}
	return acct, s
}

// BenchmarkTumblingCount runs the job over the stream's 1 000 000 events
// until every one is in a window: events/s, beside
// BenchmarkTumblingCountFloor. Results go to a callback that drops them;
// a snapshot is saved (in memory) each time windows fire.
func BenchmarkTumblingCount(b *testing.B) {
	_, s := benchStream(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		j, err := analytics.New(analytics.Config[tick, uint32, int64, int64]{
			Name: fmt.Sprintf("bench-%d", i), Sources: []shardlog.StreamAPI{s}, Store: analytics.MemoryStore(),
			Decode: decodeTick, Key: tickKey, EventTime: tickTime,
			Window: analytics.Tumbling(time.Minute), Aggregate: analytics.Count[tick](),
			Output: analytics.OutputFunc[uint32, int64](func(context.Context, []analytics.Result[uint32, int64]) error { return nil }),
			Logger: quiet,
		})
		if err != nil {
			b.Fatal(err)
		}
		c, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- j.Run(c) }()
		for j.Stats().Events < benchEvents {
			time.Sleep(time.Millisecond) // a benchmark's wait: spinning would take a core from the job
		}
		b.StopTimer()
		b.ReportMetric(float64(j.Stats().Snapshots), "snapshots")
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(benchEvents)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkTumblingCountFloor is the floor: the same records read with
// GetRecords, decoded by the same function and counted in a Go map by key
// and minute, windows handed over as each minute ends.
func BenchmarkTumblingCountFloor(b *testing.B) {
	_, s := benchStream(b)
	b.ReportAllocs()
	b.ResetTimer()
	type window struct {
		key    uint32
		minute int64
	}
	for range b.N {
		counts := map[window]int64{}
		out, err := s.ListShards(ctx, shardlog.ListShardsInput{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, sh := range out.Shards {
			it, err := s.GetShardIterator(ctx, sh.ShardID, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
			if err != nil {
				b.Fatal(err)
			}
			for {
				got, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it, Limit: 10000})
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range got.Records {
					e, err := decodeTick(shardlog.UserRecord{Record: r})
					if err != nil {
						b.Fatal(err)
					}
					counts[window{tickKey(e), tickMinute(e)}]++
					n++
				}
				if len(got.Records) == 0 {
					break
				}
				it = got.NextShardIterator
			}
		}
		if n != benchEvents {
			b.Fatal(n)
		}
	}
	b.ReportMetric(float64(benchEvents)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkEmitLatency measures how long results take to come out once
// the watermark passes their window: each round puts one event per key
// for a minute and one a minute later on each shard, and times from that
// put to the last of the minute's 10 000 results; p50 and p99 over the
// rounds. It also reports the window state's bytes per key (the heap
// growth with one window open for every key).
func BenchmarkEmitLatency(b *testing.B) {
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	defer acct.Close()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "ticks", ShardCount: 2})
	if err != nil {
		b.Fatal(err)
	}
	got := make(chan int, 1024)
	j, err := analytics.New(analytics.Config[tick, uint32, int64, int64]{
		Name: "latency", Sources: []shardlog.StreamAPI{s}, Store: analytics.MemoryStore(),
		Decode: decodeTick, Key: tickKey, EventTime: tickTime,
		Window: analytics.Tumbling(time.Minute), Aggregate: analytics.Count[tick](),
		Output: analytics.OutputFunc[uint32, int64](func(_ context.Context, rs []analytics.Result[uint32, int64]) error {
			got <- len(rs)
			return nil
		}),
		Logger: quiet,
	})
	if err != nil {
		b.Fatal(err)
	}
	c, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- j.Run(c) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}()
	put := func(minute int, keys int, hashKeys ...string) {
		batch := make([]shardlog.PutInput, 0, 500)
		flush := func() {
			if out, err := s.PutBatch(ctx, batch); err != nil || out.FailedRecordCount > 0 {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
		for k := range keys {
			data := make([]byte, 12)
			binary.BigEndian.PutUint32(data, uint32(k))
			binary.BigEndian.PutUint64(data[4:], uint64(t0.Add(time.Duration(minute)*time.Minute).UnixNano()))
			in := shardlog.PutInput{PartitionKey: fmt.Sprint(k), Data: data}
			if len(hashKeys) > 0 {
				in.ExplicitHashKey = hashKeys[k]
			}
			if batch = append(batch, in); len(batch) == cap(batch) {
				flush()
			}
		}
		if len(batch) > 0 {
			flush()
		}
	}
	shards, err := s.ListShards(ctx, shardlog.ListShardsInput{})
	if err != nil {
		b.Fatal(err)
	}
	edges := []string{shards.Shards[0].HashKeyRange.StartingHashKey, shards.Shards[1].HashKeyRange.StartingHashKey}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		put(i, benchKeys)
		for j.Stats().Events < int64((i+1)*benchKeys+2*i) {
			time.Sleep(100 * time.Microsecond)
		}
		if i == 0 {
			runtime.GC()
			runtime.ReadMemStats(&after)
		}
		startAt := time.Now()
		put(i+1, 2, edges...) // moves both shards' watermarks past minute i
		for n := 0; n < benchKeys; {
			n += <-got
		}
		lat = append(lat, time.Since(startAt))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/benchKeys, "state-B/key")
}
