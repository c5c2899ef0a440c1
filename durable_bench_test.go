package shardlog_test

import (
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/memstat"
)

// Durable benchmarks write to a directory under $TMPDIR, so they measure
// that disk. BenchmarkFsyncFloor (Linux) measures what the disk allows a
// plain loop, to compare with.

var durablePolicies = []struct {
	name   string
	policy shardlog.SyncPolicy
}{
	{"always", shardlog.SyncAlways},
	{"every100ms", shardlog.SyncEvery(100 * time.Millisecond)},
	{"none", shardlog.SyncNone},
}

// durableStream is benchStream in a directory, under policy.
func durableStream(b *testing.B, dir string, policy shardlog.SyncPolicy, opts ...shardlog.Option) *shardlog.Stream {
	b.Helper()
	return benchStream(b, append([]shardlog.Option{shardlog.WithDir(dir), shardlog.WithSync(policy)}, opts...)...)
}

// BenchmarkDurablePut puts one record per call from one goroutine, and
// from 64 at once (where SyncAlways shares each sync among the writers
// waiting for it).
func BenchmarkDurablePut(b *testing.B) {
	for _, p := range durablePolicies {
		for _, writers := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/writers=%d", p.name, writers), func(b *testing.B) {
				s := durableStream(b, b.TempDir(), p.policy)
				keys := benchKeys()
				data := make([]byte, 100)
				b.ReportAllocs()
				b.ResetTimer()
				if writers == 1 {
					for i := 0; i < b.N; i++ {
						if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: keys[i&1023], Data: data}); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					b.SetParallelism((writers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
					b.RunParallel(func(pb *testing.PB) {
						for i := 0; pb.Next(); i++ {
							if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: keys[i&1023], Data: data}); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// BenchmarkDurablePutBatch puts batches of 500 records of 100 bytes.
func BenchmarkDurablePutBatch(b *testing.B) {
	for _, p := range durablePolicies {
		b.Run(p.name, func(b *testing.B) {
			s := durableStream(b, b.TempDir(), p.policy)
			batch := benchBatch(100)
			var res shardlog.PutBatchOutput
			b.SetBytes(500 * 100)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := s.PutBatchInto(ctx, batch, &res); err != nil || res.FailedRecordCount != 0 {
					b.Fatal(err, res.FailedRecordCount)
				}
			}
			b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkDurablePutBatchAcrossShards puts batches of 500 records of 100
// bytes, with distinct keys, into a stream of 100 shards: under
// SyncAlways each batch waits for a sync of every shard it touched.
func BenchmarkDurablePutBatchAcrossShards(b *testing.B) {
	s, err := shardlog.NewStream("bench", 100, shardlog.WithoutLimits(), shardlog.WithDir(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	batch := benchBatch(100)
	var res shardlog.PutBatchOutput
	b.SetBytes(500 * 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.PutBatchInto(ctx, batch, &res); err != nil || res.FailedRecordCount != 0 {
			b.Fatal(err, res.FailedRecordCount)
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "records/s")
}

// benchBatch returns 500 records of size bytes with distinct keys.
func benchBatch(size int) []shardlog.PutInput {
	keys := benchKeys()
	batch := make([]shardlog.PutInput, 500)
	for i := range batch {
		batch[i] = shardlog.PutInput{PartitionKey: keys[i], Data: make([]byte, size)}
	}
	return batch
}

// fillDir stores n records of 100 bytes in a one-shard stream in a new
// directory and closes it.
func fillDir(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	s := durableStream(b, dir, shardlog.SyncNone)
	batch := benchBatch(100)
	var res shardlog.PutBatchOutput
	for i := 0; i < n; i += 500 {
		if err := s.PutBatchInto(ctx, batch, &res); err != nil || res.FailedRecordCount != 0 {
			b.Fatal(err, res.FailedRecordCount)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkDurableReopen opens a directory of 10 M records of 100 bytes;
// one op is one opening. heap-B/record is the heap the open stream holds
// per record.
func BenchmarkDurableReopen(b *testing.B) {
	const n = 10_000_000
	dir := fillDir(b, n)
	b.ResetTimer()
	var heap float64
	for i := 0; i < b.N; i++ {
		b.StopTimer() // collecting the filler's garbage is not opening's cost
		before := memstat.HeapAlloc()
		b.StartTimer()
		s, err := shardlog.NewStream("bench", 1, shardlog.WithoutLimits(), shardlog.WithDir(dir))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		heap = float64(memstat.HeapAlloc()-before) / n
		if got := s.Account().Recovery().Records; got != n {
			b.Fatalf("reopened %d records, want %d", got, n)
		}
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(heap, "heap-B/record")
}

// BenchmarkDurableReadThrough reads 1 M records that a reopened stream
// holds only in its files; one op is one record.
func BenchmarkDurableReadThrough(b *testing.B) {
	const n = 1 << 20
	s, err := shardlog.NewStream("bench", 1, shardlog.WithoutLimits(), shardlog.WithDir(fillDir(b, n)))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	b.ResetTimer()
	read := 0
	for read < b.N {
		for _, err := range s.Records(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
			if err != nil {
				b.Fatal(err)
			}
			read++
			if read == b.N {
				break
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkReadFloor is what the machine allows a plain loop that reads
// the files of BenchmarkDurableReadThrough's 1 M records back as the store
// does: each file into fresh memory with one pread, then a CRC-32C over it.
// One op is one record.
func BenchmarkReadFloor(b *testing.B) {
	const n = 1 << 20
	dir := fillDir(b, n)
	names, err := filepath.Glob(filepath.Join(dir, "streams", "*", "*.seg"))
	if err != nil || len(names) == 0 {
		b.Fatal("no segment files", err)
	}
	files := make([]*os.File, len(names))
	sizes := make([]int, len(names))
	total := 0
	for i, name := range names {
		if files[i], err = os.Open(name); err != nil {
			b.Fatal(err)
		}
		defer files[i].Close()
		fi, err := files[i].Stat()
		if err != nil {
			b.Fatal(err)
		}
		sizes[i] = int(fi.Size())
		total += sizes[i]
	}
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	b.ResetTimer()
	for read := 0; read < b.N; {
		for i, f := range files {
			buf := make([]byte, sizes[i])
			if _, err := f.ReadAt(buf, 0); err != nil {
				b.Fatal(err)
			}
			crcSink += crc32.Checksum(buf, castagnoli)
		}
		read += n
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

var crcSink uint32

// BenchmarkDurableCheckpoint writes checkpoints to a durable account's
// LeaseStore under SyncAlways from one goroutine and from 64, each on a
// lease of its own: writers waiting together share one sync.
func BenchmarkDurableCheckpoint(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			store := durableStream(b, b.TempDir(), shardlog.SyncAlways).Account().LeaseStore()
			leases := make([]shardlog.Lease, writers)
			for i := range leases {
				leases[i] = shardlog.Lease{Key: shardlog.ShardIDOf(i), Owner: "w"}
				if err := store.Swap(ctx, "bench", nil, leases[i]); err != nil {
					b.Fatal(err)
				}
			}
			var next atomic.Int64
			procs := runtime.GOMAXPROCS(0)
			if writers < procs {
				runtime.GOMAXPROCS(writers) // RunParallel's goroutines: one per writer
				defer runtime.GOMAXPROCS(procs)
			}
			b.SetParallelism(max(1, writers/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				l := leases[int(next.Add(1)-1)%writers]
				for pb.Next() {
					n := l
					n.Counter++
					if err := store.Swap(ctx, "bench", &l, n); err != nil {
						b.Error(err)
						return
					}
					l = n
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checkpoints/s")
		})
	}
}
