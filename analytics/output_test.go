package analytics_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/analytics"
	"github.com/shardlog/shardlog/firehose"
)

// readResults reads every record of a stream as results.
func readResults(t *testing.T, s shardlog.StreamAPI) []analytics.Result[string, int64] {
	t.Helper()
	var out []analytics.Result[string, int64]
	shards, err := s.ListShards(ctx, shardlog.ListShardsInput{})
	require.NoError(t, err)
	for _, sh := range shards.Shards {
		it, err := s.GetShardIterator(ctx, sh.ShardID, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
		require.NoError(t, err)
		for it != "" {
			got, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
			require.NoError(t, err)
			for _, rec := range got.Records {
				var r analytics.Result[string, int64]
				require.NoError(t, json.Unmarshal(rec.Data, &r))
				require.Equal(t, r.ID, rec.PartitionKey)
				out = append(out, r)
			}
			if len(got.Records) == 0 {
				break
			}
			it = got.NextShardIterator
		}
	}
	return out
}

// TestStreamOutput: results go to a stream as JSON keyed by ID; a reader
// with a Dedup takes each once, even when a result is written twice.
func TestStreamOutput(t *testing.T) {
	r := newRig(t, 1)
	out, err := r.acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "page-counts", ShardCount: 2})
	require.NoError(t, err)
	cfg := r.countConfig(analytics.Tumbling(time.Minute))
	cfg.Output = analytics.StreamOutput[string, int64](out)
	j, _ := run(t, cfg)
	r.put(0, click{Page: "a", At: ms(10 * time.Second)})
	r.put(0, click{Page: "b", At: ms(20 * time.Second)})
	r.put(0, click{Page: "a", At: ms(30 * time.Second)})
	r.put(0, click{Page: "x", At: ms(70 * time.Second)})
	await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Results == 2 })
	got := readResults(t, out)
	require.Equal(t, []row{{"a", 0, time.Minute, 2}, {"b", 0, time.Minute, 1}}, rows(got))

	// The same results again, as after a crash: a Dedup keeps one of each.
	require.NoError(t, analytics.StreamOutput[string, int64](out).Emit(ctx, got))
	d := analytics.NewDedup(time.Hour)
	var taken []analytics.Result[string, int64]
	for _, x := range readResults(t, out) {
		if d.First(x.ID, x.End) {
			taken = append(taken, x)
		}
	}
	require.Equal(t, rows(got), rows(taken))
}

func TestDedupForgetsPastTheHorizon(t *testing.T) {
	d := analytics.NewDedup(time.Hour)
	require.True(t, d.First("a", t0))
	require.False(t, d.First("a", t0))
	require.True(t, d.First("b", t0.Add(90*time.Minute)))
	require.True(t, d.First("c", t0.Add(2*time.Hour))) // a is now past the horizon, b is not
	require.True(t, d.First("a", t0), "forgotten")
	require.False(t, d.First("b", t0.Add(90*time.Minute)), "kept")
}

// TestDeliveryOutput: results go to a delivery stream as JSON lines.
func TestDeliveryOutput(t *testing.T) {
	r := newRig(t, 1)
	bucket := t.TempDir()
	sink, err := r.acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "delivery-buffer", ShardCount: 1})
	require.NoError(t, err)
	d, err := firehose.New(firehose.Config{
		Name: "page-counts", Source: sink, DirectPut: true, Destination: firehose.Dir(bucket),
		Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 60}, Logger: quiet,
	})
	require.NoError(t, err)
	c, cancel := context.WithCancel(ctx)
	delivered := make(chan error, 1)
	go func() { delivered <- d.Run(c) }()
	defer func() { cancel(); require.NoError(t, <-delivered) }()

	cfg := r.countConfig(analytics.Tumbling(time.Minute))
	cfg.Output = analytics.DeliveryOutput[string, int64](d)
	j, _ := run(t, cfg)
	r.put(0, click{Page: "a", At: ms(10 * time.Second)})
	r.put(0, click{Page: "x", At: ms(70 * time.Second)})
	await(t, r.clk, j, 0, func(s analytics.Stats) bool { return s.Results == 1 })
	var lines [][]byte
	await(t, r.clk, j, time.Second, func(analytics.Stats) bool {
		lines = nil
		_ = filepath.WalkDir(bucket, func(path string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				b, _ := os.ReadFile(path)
				sc := bufio.NewScanner(bytes.NewReader(b))
				for sc.Scan() {
					lines = append(lines, append([]byte(nil), sc.Bytes()...))
				}
			}
			return nil
		})
		return len(lines) > 0
	})
	require.Len(t, lines, 1)
	var res analytics.Result[string, int64]
	require.NoError(t, json.Unmarshal(lines[0], &res))
	require.Equal(t, []row{{"a", 0, time.Minute, 1}}, rows([]analytics.Result[string, int64]{res}))
}
