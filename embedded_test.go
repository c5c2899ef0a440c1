package shardlog_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
)

// TestEmbeddedLog: the profile has no throughput limits and a retention
// below Kinesis's 24 hours, kept across a restart.
func TestEmbeddedLog(t *testing.T) {
	dir := t.TempDir()
	clk := shardlog.NewManualClock(t0)
	open := func() *shardlog.Stream {
		s, err := shardlog.NewStream("log", 1, shardlog.EmbeddedLog(10*time.Minute), shardlog.WithClock(clk), shardlog.WithDir(dir))
		require.NoError(t, err)
		return s
	}
	s := open()
	for i := range 2000 { // twice a shard's 1000 records a second, in one instant
		put(t, s, "k", fmt.Sprint("old ", i))
	}
	sum, err := s.DescribeStreamSummary(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, sum.RetentionPeriodHours, "a retention under an hour reports as one")
	require.NoError(t, s.Close())

	s = open()
	defer s.Close()
	clk.Advance(9 * time.Minute)
	put(t, s, "k", "new")
	clk.Advance(2 * time.Minute) // the old records are 11 minutes old
	var got []string
	for r, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err)
		got = append(got, string(r.Data))
	}
	require.Equal(t, []string{"new"}, got)

	// The retention calls keep Kinesis's whole hours.
	require.NoError(t, s.IncreaseStreamRetentionPeriod(ctx, 24*time.Hour))
	sum, err = s.DescribeStreamSummary(ctx)
	require.NoError(t, err)
	require.Equal(t, 24, sum.RetentionPeriodHours)
}

func TestEmbeddedLogRefusesNoRetention(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Minute} {
		_, err := shardlog.NewStream("log", 1, shardlog.EmbeddedLog(d))
		require.ErrorContains(t, err, "not positive")
	}
}

// TestAccountKeepsKinesisRules: without the profile, the 1 001st record in
// a second is throttled and retention below 24 hours refused.
func TestAccountKeepsKinesisRules(t *testing.T) {
	s, err := shardlog.NewStream("log", 1, shardlog.WithClock(shardlog.NewManualClock(t0)))
	require.NoError(t, err)
	defer s.Close()
	for i := range 1000 {
		put(t, s, "k", fmt.Sprint(i))
	}
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})
	require.ErrorIs(t, err, shardlog.ErrProvisionedThroughputExceeded)
	_, err = shardlog.NewStream("log", 1, shardlog.WithRetention(10*time.Minute))
	require.Error(t, err)
}
