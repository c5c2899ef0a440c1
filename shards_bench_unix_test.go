//go:build unix

package shardlog_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/memstat"
)

// benchShards is the stream's shard count in BenchmarkIdleShards: 1 000,
// or SHARDLOG_BENCH_SHARDS (docs/benchmarks.md's figures use 10 000).
func benchShards(b *testing.B) int {
	if v := os.Getenv("SHARDLOG_BENCH_SHARDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 1000
}

// diskUsed returns the blocks the files under dir take, in bytes.
func diskUsed(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n += fi.Sys().(*syscall.Stat_t).Blocks * 512
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkIdleShards measures what a durable stream of many shards, each
// holding 10 records of 100 bytes, costs: heap a shard right after the
// puts and once the shards have been idle for 5 minutes (of the account's
// clock) and ApplyRetention has run (and the growth of the resident set
// then, which keeps heap the collector freed), disk a shard (the directory blocks
// included), and how long creating it, putting the records (batches of
// 500 under SyncAlways), closing and reopening take.
func BenchmarkIdleShards(b *testing.B) {
	shards := benchShards(b)
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		clk := shardlog.NewManualClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
		opts := []shardlog.Option{shardlog.WithDir(dir), shardlog.WithoutLimits(), shardlog.WithShardLimit(shards), shardlog.WithClock(clk)}
		before, rssBefore := memstat.HeapAlloc(), memstat.Resident()
		start := time.Now()
		a, err := shardlog.NewAccount(opts...)
		if err != nil {
			b.Fatal(err)
		}
		s, err := a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: shards})
		if err != nil {
			b.Fatal(err)
		}
		created := time.Since(start)
		data := make([]byte, 100)
		batch := make([]shardlog.PutInput, 500)
		start = time.Now()
		for n := 0; n < shards*10; n += len(batch) {
			for j := range batch {
				batch[j] = shardlog.PutInput{PartitionKey: fmt.Sprint(n + j), Data: data}
			}
			res, err := s.PutBatch(ctx, batch)
			if err != nil || res.FailedRecordCount != 0 {
				b.Fatal(err, res.FailedRecordCount)
			}
		}
		put := time.Since(start)
		heap := memstat.HeapAlloc() - before
		clk.Advance(5 * time.Minute)
		start = time.Now()
		if err := a.ApplyRetention(ctx); err != nil {
			b.Fatal(err)
		}
		parked := time.Since(start)
		heapIdle := memstat.HeapAlloc() - before
		rssIdle := memstat.Resident() - rssBefore
		start = time.Now()
		if err := a.Close(); err != nil {
			b.Fatal(err)
		}
		closed := time.Since(start)
		disk := diskUsed(b, dir)
		before = memstat.HeapAlloc()
		start = time.Now()
		a, err = shardlog.NewAccount(opts...)
		if err != nil {
			b.Fatal(err)
		}
		reopened := time.Since(start)
		heapReopened := memstat.HeapAlloc() - before
		if err := a.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(heap)/float64(shards), "heap-B/shard")
		b.ReportMetric(float64(heapIdle)/float64(shards), "idle-heap-B/shard")
		b.ReportMetric(parked.Seconds(), "park-s")
		if rssBefore > 0 {
			b.ReportMetric(float64(rssIdle)/float64(shards), "idle-rss-B/shard")
		}
		b.ReportMetric(float64(heapReopened)/float64(shards), "reopened-heap-B/shard")
		b.ReportMetric(float64(disk)/float64(shards), "disk-B/shard")
		b.ReportMetric(created.Seconds(), "create-s")
		b.ReportMetric(float64(shards*10)/put.Seconds(), "put-records/s")
		b.ReportMetric(closed.Seconds(), "close-s")
		b.ReportMetric(reopened.Seconds(), "reopen-s")
	}
}
