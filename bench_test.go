package shardlog_test

import (
	"fmt"
	"math/big"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/memstat"
)

// Benchmarks run on one shard with 100-byte payloads, 16-character keys from
// a pool, and limits off, unless they say otherwise.

func benchKeys() []string {
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("partition-%06d", i) // 16 characters
	}
	return keys
}

func benchStream(b *testing.B, opts ...shardlog.Option) *shardlog.Stream {
	b.Helper()
	s, err := shardlog.NewStream("bench", 1, append([]shardlog.Option{shardlog.WithoutLimits()}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkPut(b *testing.B) {
	for _, h := range []struct {
		name   string
		hasher shardlog.Hasher
	}{{"md5", shardlog.MD5}, {"xxhash", shardlog.XXHash}} {
		b.Run(h.name, func(b *testing.B) {
			s := benchStream(b, shardlog.WithHasher(h.hasher))
			keys := benchKeys()
			data := make([]byte, 100)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: keys[i&1023], Data: data}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkPutBatch writes batches into an unbounded stream (every byte
// lands in fresh memory) and into one bounded to 256 MiB (the oldest
// records go, and memory is reused, as in a long-running embedded log).
func BenchmarkPutBatch(b *testing.B) {
	for _, bench := range []struct {
		name   string
		size   int
		opts   []shardlog.Option
		shards int
	}{
		{"500x100B", 100, nil, 1},
		{"500x100B/into", 100, nil, 1}, // PutBatchInto, reusing one result
		{"500x100B/8shards", 100, nil, 8},
		{"500x1024B", 1024, nil, 1},
		{"500x100B/bounded", 100, []shardlog.Option{shardlog.WithSizeBound(shardlog.SizeBound{Bytes: 256 << 20})}, 1},
		{"500x1024B/bounded", 1024, []shardlog.Option{shardlog.WithSizeBound(shardlog.SizeBound{Bytes: 256 << 20})}, 1},
	} {
		size := bench.size
		b.Run(bench.name, func(b *testing.B) {
			s := benchStream(b, bench.opts...)
			if bench.shards > 1 {
				var err error
				if s, err = shardlog.NewStream("bench", bench.shards, append([]shardlog.Option{shardlog.WithoutLimits()}, bench.opts...)...); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { s.Close() })
			}
			keys := benchKeys()
			batch := make([]shardlog.PutInput, 500)
			for i := range batch {
				batch[i] = shardlog.PutInput{PartitionKey: keys[i], Data: make([]byte, size)}
			}
			b.SetBytes(int64(500 * size))
			b.ReportAllocs()
			b.ResetTimer()
			into := strings.HasSuffix(bench.name, "/into")
			var res shardlog.PutBatchOutput
			for i := 0; i < b.N; i++ {
				var err error
				if into {
					err = s.PutBatchInto(ctx, batch, &res)
				} else {
					res, err = s.PutBatch(ctx, batch)
				}
				if err != nil || res.FailedRecordCount != 0 {
					b.Fatal(err, res.FailedRecordCount)
				}
			}
			b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// fill stores n records of 100 bytes in a fresh one-shard stream.
func fill(b *testing.B, n int) *shardlog.Stream {
	s := benchStream(b)
	keys := benchKeys()
	batch := make([]shardlog.PutInput, 500)
	for i := range batch {
		batch[i] = shardlog.PutInput{PartitionKey: keys[i], Data: make([]byte, 100)}
	}
	for i := 0; i < n; i += 500 {
		if _, err := s.PutBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkReadThrough reads 1 M stored records; one op is one record.
func BenchmarkReadThrough(b *testing.B) {
	const n = 1 << 20
	s := fill(b, n)
	b.Run("iterator", func(b *testing.B) {
		b.ReportAllocs()
		b.ResetTimer()
		read := 0
		for read < b.N {
			// Ranged over here, as a user would: through a function value
			// the loop body could not be inlined into the iterator.
			for r, err := range s.Records(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
				if err != nil {
					b.Fatal(err)
				}
				_ = r
				if read++; read == b.N {
					break
				}
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("ReadAll", func(b *testing.B) {
		b.ReportAllocs()
		b.ResetTimer()
		read := 0
		for read < b.N {
			// Ranged over here, as a user would: through a function value
			// the loop body could not be inlined into the iterator.
			for r, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
				if err != nil {
					b.Fatal(err)
				}
				_ = r
				if read++; read == b.N {
					break
				}
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("GetRecords", func(b *testing.B) {
		b.ReportAllocs()
		b.ResetTimer()
		read := 0
		for read < b.N {
			it, err := s.GetShardIterator(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
			if err != nil {
				b.Fatal(err)
			}
			var out shardlog.GetRecordsOutput
			for it != "" && read < b.N {
				if err := s.GetRecordsInto(ctx, shardlog.GetRecordsInput{ShardIterator: it}, &out); err != nil {
					b.Fatal(err)
				}
				if len(out.Records) == 0 {
					break
				}
				read += len(out.Records)
				it = out.NextShardIterator
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}

// BenchmarkHeapPerRecord stores 1 M records of 100 bytes with 16-byte keys
// and reports the heap they take beyond payload and key.
func BenchmarkHeapPerRecord(b *testing.B) {
	const n = 1 << 20
	for i := 0; i < b.N; i++ {
		before := memstat.HeapAlloc()
		s := fill(b, n)
		after := memstat.HeapAlloc()
		b.ReportMetric(float64(after-before)/n-116, "overhead-B/record")
		runtime.KeepAlive(s)
		s.Close()
	}
}

// BenchmarkSplitMerge splits a shard holding 1 M records and merges the
// children back; one op is a split plus a merge. Closing a shard copies no
// records, so the time does not depend on how many it holds.
func BenchmarkSplitMerge(b *testing.B) {
	for _, n := range []int{0, 1 << 20} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			s := fill(b, n)
			open := "shardId-000000000000"
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: open, NewStartingHashKey: "170141183460469231731687303715884105728"}); err != nil {
					b.Fatal(err)
				}
				// Shard 3i splits into 3i+1 and 3i+2, which merge into 3i+3.
				lo, hi := fmt.Sprintf("shardId-%012d", 3*i+1), fmt.Sprintf("shardId-%012d", 3*i+2)
				if _, err := s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: lo, AdjacentShardToMerge: hi}); err != nil {
					b.Fatal(err)
				}
				open = fmt.Sprintf("shardId-%012d", 3*i+3)
			}
		})
	}
}

// BenchmarkUpdateShardCount scales 64 -> 128 -> 64; one op is both steps.
func BenchmarkUpdateShardCount(b *testing.B) {
	clk := shardlog.NewManualClock(t0)
	a, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithoutLimits(), shardlog.WithShardLimit(1<<30))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	if _, err := a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: 64}); err != nil {
		b.Fatal(err)
	}
	s, _ := a.Stream(shardlog.StreamRef{StreamName: "s"})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, n := range []int{128, 64} {
			if _, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: n, ScalingType: shardlog.UniformScaling}); err != nil {
				b.Fatal(err)
			}
			clk.Advance(3 * time.Hour)
		}
	}
}

// BenchmarkPutWhileResharding measures Put on a 4-shard stream, alone and
// while another goroutine splits and merges in a loop.
func BenchmarkPutWhileResharding(b *testing.B) {
	for _, reshard := range []bool{false, true} {
		b.Run(fmt.Sprintf("resharding=%v", reshard), func(b *testing.B) {
			s, err := shardlog.NewStream("bench", 4, shardlog.WithoutLimits(), shardlog.WithShardLimit(1<<30))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for reshard {
					select {
					case <-stop:
						return
					default:
					}
					shards, _ := s.ListShards(ctx, shardlog.ListShardsInput{ShardFilter: shardlog.ShardFilter{Type: shardlog.FilterAtLatest}})
					first := shards.Shards[0]
					if len(shards.Shards) < 8 {
						mid := new(big.Int).Rsh(new(big.Int).Add(bigOf(first.HashKeyRange.StartingHashKey), bigOf(first.HashKeyRange.EndingHashKey)), 1)
						_ = errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: first.ShardID, NewStartingHashKey: mid.String()}))
						continue
					}
					for _, o := range shards.Shards[1:] {
						if new(big.Int).Add(bigOf(first.HashKeyRange.EndingHashKey), big.NewInt(1)).Cmp(bigOf(o.HashKeyRange.StartingHashKey)) == 0 {
							_ = errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: first.ShardID, AdjacentShardToMerge: o.ShardID}))
							break
						}
					}
				}
			}()
			keys := benchKeys()
			data := make([]byte, 100)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: keys[i&1023], Data: data}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			close(stop)
			<-done
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkStreamAPIPut writes records with Put called on the stream and
// through the StreamAPI interface: the interface adds no copy, so the two
// should match.
func BenchmarkStreamAPIPut(b *testing.B) {
	for _, via := range []string{"direct", "interface"} {
		b.Run(via, func(b *testing.B) {
			s := benchStream(b)
			var api shardlog.StreamAPI = s
			keys := benchKeys()
			data := make([]byte, 100)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				in := shardlog.PutInput{PartitionKey: keys[i&1023], Data: data}
				var err error
				if via == "direct" {
					_, err = s.Put(ctx, in)
				} else {
					_, err = api.Put(ctx, in)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
