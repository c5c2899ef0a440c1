package agent_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/agent"
	"github.com/shardlog/shardlog/internal/benchlog"
	"github.com/shardlog/shardlog/internal/memstat"
)

// BenchmarkReadLines is the floor BenchmarkTail is measured against:
// reading the log and splitting its lines.
func BenchmarkReadLines(b *testing.B) {
	path, lines := benchlog.Write(b)
	b.ResetTimer()
	for range b.N {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		n := 0
		for sc.Scan() {
			n++
		}
		f.Close()
		if n != lines {
			b.Fatal(n, lines)
		}
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
}

// newBenchAgent returns an agent that tails the files pattern matches,
// from their start, into s, with no rate limit; its timer stopped.
func newBenchAgent(b *testing.B, s shardlog.StreamAPI, pattern string) *agent.Agent {
	b.Helper()
	cfg, err := agent.ParseConfig([]byte(fmt.Sprintf(`{"checkpointFile": %q, "flows": [{"filePattern": %q, "kinesisStream": "logs",
	  "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000, "minTimeBetweenFilePollsMillis": 1}]}`,
		filepath.Join(b.TempDir(), "checkpoints"), pattern)))
	if err != nil {
		b.Fatal(err)
	}
	a, err := agent.New(context.Background(), cfg, func(context.Context, string) (shardlog.StreamAPI, error) { return s, nil }, agent.Options{Logger: quiet, RateLimit: -1})
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// pollUntilRead polls a until it has read lines records.
func pollUntilRead(b *testing.B, a *agent.Agent, lines int) {
	for a.Totals().RecordsParsed < int64(lines) {
		if err := a.Poll(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTail tails the log into an embedded stream (no limits, and no
// rate limit in the agent) until every line is acknowledged.
func BenchmarkTail(b *testing.B) {
	path, lines := benchlog.Write(b)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		acct, err := shardlog.NewAccount(shardlog.WithoutLimits())
		if err != nil {
			b.Fatal(err)
		}
		s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "logs", ShardCount: 4})
		if err != nil {
			b.Fatal(err)
		}
		a := newBenchAgent(b, s, path)
		b.StartTimer()
		pollUntilRead(b, a, lines)
		if err := a.Close(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if got := a.Totals().RecordsSent; got != int64(lines) {
			b.Fatal(got, lines)
		}
		acct.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkTail100Files tails 100 files of 1 MiB each, every line
// acknowledged, into a stream bounded to 16 MiB (so that what is measured
// is the agent, not the stored records), and reports the process's
// resident memory after it (rss-MiB, Linux only) and the Go heap in use.
func BenchmarkTail100Files(b *testing.B) {
	dir := b.TempDir()
	const files, perFile = 100, 1 << 20 / 100
	for i := range files {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("app-%03d.log", i)))
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		for j := range perFile {
			fmt.Fprintf(w, "%03d %-95d\n", i, j)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	ctx := context.Background()
	var heap, rss float64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		acct, err := shardlog.NewAccount(shardlog.WithoutLimits(), shardlog.WithAccountSizeBound(shardlog.SizeBound{Bytes: 16 << 20}), shardlog.WithLogger(quiet))
		if err != nil {
			b.Fatal(err)
		}
		s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "logs", ShardCount: 4})
		if err != nil {
			b.Fatal(err)
		}
		a := newBenchAgent(b, s, filepath.Join(dir, "app-*.log"))
		b.StartTimer()
		pollUntilRead(b, a, files*perFile)
		if err := a.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		heap = max(heap, float64(ms.HeapInuse)/(1<<20))
		rss = max(rss, float64(memstat.Resident())/(1<<20))
		if err := a.Close(ctx); err != nil {
			b.Fatal(err)
		}
		acct.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(files*perFile*b.N)/b.Elapsed().Seconds(), "lines/s")
	b.ReportMetric(heap, "heap-MiB")
	if rss > 0 {
		b.ReportMetric(rss, "rss-MiB")
	}
}
