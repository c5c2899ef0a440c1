package aws_test

import (
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/autoscale"
	"github.com/shardlog/shardlog/aws"
	"github.com/shardlog/shardlog/cloudwatchapi"
)

var _ autoscale.Stream = (*aws.ScalableStream)(nil)

// TestAutoscaleThroughTheSDKs: the autoscaler scales a stream it reaches
// only through the AWS SDKs, its loads read from CloudWatch's shard-level
// metrics, as it would on Amazon Kinesis.
func TestAutoscaleThroughTheSDKs(t *testing.T) {
	ctx := t.Context()
	clk := shardlog.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	client, acct := serve(t, shardlog.WithClock(clk))
	metrics := httptest.NewServer(cloudwatchapi.NewHandler(acct, cloudwatchapi.WithUnsignedRequests()))
	defer metrics.Close()
	cw := cloudwatch.New(cloudwatch.Options{BaseEndpoint: sdk.String(metrics.URL), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""), RetryMaxAttempts: 1, HTTPClient: metrics.Client()})
	s := open(t, client, acct, 2)
	embedded, err := acct.Stream(shardlog.StreamRef{StreamName: s.Name()})
	require.NoError(t, err)
	_, err = embedded.EnableEnhancedMonitoring(ctx, []string{"IncomingBytes", "IncomingRecords"})
	require.NoError(t, err)

	// 48 000 records to the first shard in a minute: 80% of its record
	// limit; none to the second.
	batch := make([]shardlog.PutInput, 500)
	for i := range batch {
		batch[i] = shardlog.PutInput{PartitionKey: "k", Data: []byte("x"), ExplicitHashKey: "1"}
	}
	for range 96 {
		out, err := s.PutBatch(ctx, batch)
		require.NoError(t, err)
		require.Zero(t, out.FailedRecordCount)
	}
	clk.Advance(time.Minute)

	scalable := aws.Scalable(s, cw, clk)
	loads, err := scalable.ShardLoads(ctx)
	require.NoError(t, err)
	require.Len(t, loads, 2)
	require.Equal(t, int64(48000), loads[0].WriteRecords)
	require.Equal(t, int64(48000*2), loads[0].WriteBytes)
	require.InDelta(t, 0.8, loads[0].WriteUtilization, 1e-9)
	require.Zero(t, loads[1].WriteRecords)
	require.Empty(t, loads[0].SplitKey, "CloudWatch knows nothing of hash keys")

	as, err := autoscale.New(scalable, autoscale.Config{Clock: clk, Sustain: 1, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	decisions, err := as.Look(ctx)
	require.NoError(t, err)
	require.Len(t, decisions, 1)
	require.Equal(t, autoscale.Split, decisions[0].Action)
	require.Contains(t, decisions[0].Reason, "midpoint")
	page, err := s.ListShards(ctx, shardlog.ListShardsInput{ShardFilter: shardlog.ShardFilter{Type: shardlog.FilterAtLatest}})
	require.NoError(t, err)
	require.Len(t, page.Shards, 3, "the first shard split through the SDK")
}
