package agent_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/agent"
)

// benchLog writes a log of SHARDLOG_AGENT_BENCH_MB megabytes (64 by
// default; the README's figure is of 1024) of 100-byte lines, and returns
// its path and line count.
func benchLog(b *testing.B) (string, int) {
	b.Helper()
	mb := 64
	if v := os.Getenv("SHARDLOG_AGENT_BENCH_MB"); v != "" {
		var err error
		if mb, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	path := filepath.Join(b.TempDir(), "app.log")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	lines := mb << 20 / 100
	for i := range lines {
		fmt.Fprintf(w, "%-99d\n", i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path, lines
}

// BenchmarkReadLines is the floor BenchmarkTail is measured against:
// reading the log and splitting its lines.
func BenchmarkReadLines(b *testing.B) {
	path, lines := benchLog(b)
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

// BenchmarkTail tails the log into an embedded stream (no limits, and no
// rate limit in the agent) until every line is acknowledged.
func BenchmarkTail(b *testing.B) {
	path, lines := benchLog(b)
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
		cfg, err := agent.ParseConfig([]byte(fmt.Sprintf(`{"checkpointFile": %q, "flows": [{"filePattern": %q, "kinesisStream": "logs",
		  "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000, "minTimeBetweenFilePollsMillis": 1}]}`,
			filepath.Join(b.TempDir(), "checkpoints"), path)))
		if err != nil {
			b.Fatal(err)
		}
		a, err := agent.New(ctx, cfg, func(context.Context, string) (shardlog.StreamAPI, error) { return s, nil }, agent.Options{Logger: quiet, RateLimit: -1})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for a.Totals().RecordsParsed < int64(lines) {
			if err := a.Poll(ctx); err != nil {
				b.Fatal(err)
			}
		}
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
