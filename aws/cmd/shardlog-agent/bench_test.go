package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/agent"
	"github.com/shardlog/shardlog/aws"
	"github.com/shardlog/shardlog/internal/benchlog"
	"github.com/shardlog/shardlog/kinesisapi"
)

// BenchmarkTailToShardlogd tails a log of SHARDLOG_AGENT_BENCH_MB megabytes
// (64 by default; the README's figure is of 1024) of 100-byte lines into a
// stream served as shardlogd serves it (kinesisapi over loopback HTTP,
// through the AWS SDK), until every line is acknowledged: the network
// twin of package agent's BenchmarkTail.
func BenchmarkTailToShardlogd(b *testing.B) {
	path, lines := benchlog.Write(b)
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		acct, err := shardlog.NewAccount(shardlog.WithoutLimits(), shardlog.WithLogger(quiet))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "logs", ShardCount: 4}); err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(kinesisapi.NewHandler(acct))
		client := kinesis.New(kinesis.Options{Region: "us-east-1", BaseEndpoint: sdk.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
		api, err := aws.Open(ctx, client, shardlog.StreamRef{StreamName: "logs"})
		if err != nil {
			b.Fatal(err)
		}
		cfg, err := agent.ParseConfig(fmt.Appendf(nil, `{"checkpointFile": %q, "flows": [{"filePattern": %q, "kinesisStream": "logs",
		  "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000, "minTimeBetweenFilePollsMillis": 1}]}`,
			filepath.Join(b.TempDir(), "checkpoints"), path))
		if err != nil {
			b.Fatal(err)
		}
		a, err := agent.New(ctx, cfg, func(context.Context, string) (shardlog.StreamAPI, error) { return api, nil }, agent.Options{Logger: quiet, RateLimit: -1})
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
		srv.Close()
		acct.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
}
