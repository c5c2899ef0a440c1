package shardlog_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

func TestWriteRecordLimit(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithLimits(shardlog.AWSLimits()))
	s := newStream(t, a, "s", 2)
	for i := 0; i < 1000; i++ {
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})
		require.NoError(t, err, "record %d", i)
	}
	res, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})
	require.Empty(t, res.ShardID)
	requireCode(t, err, shardlog.ErrProvisionedThroughputExceeded, "")
	require.Contains(t, err.Error(), "Rate exceeded for shard shardId-00000000000")
	require.True(t, err.(*shardlog.Error).Retryable)

	clk.Advance(999 * time.Millisecond)
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})
	require.NoError(t, err, "999 tokens refilled")
	clk.Advance(time.Second)
	for i := 0; i < 1000; i++ {
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})
		require.NoError(t, err, "record %d of the next second", i)
	}
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})
	requireCode(t, err, shardlog.ErrProvisionedThroughputExceeded, "")
}

func TestWriteByteLimit(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithLimits(shardlog.AWSLimits()))
	s := newStream(t, a, "s", 1)
	half := make([]byte, 512<<10-1) // plus the one-byte key
	for i := 0; i < 2; i++ {
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: half})
		require.NoError(t, err)
	}
	_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k"})
	requireCode(t, err, shardlog.ErrProvisionedThroughputExceeded, "")
	clk.Advance(500 * time.Millisecond)
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: half})
	require.NoError(t, err)
}

// TestPutBatchThrottlesOnlyTheHotShard fills shard 0's budget; a batch then
// fails just its records for shard 0.
func TestPutBatchThrottlesOnlyTheHotShard(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithLimits(shardlog.AWSLimits()))
	s := newStream(t, a, "s", 2)
	low := shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: "0"}
	high := shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: "340282366920938463463374607431768211455"}
	for i := 0; i < 999; i++ {
		_, err := s.Put(ctx, low)
		require.NoError(t, err)
	}
	res, err := s.PutBatch(ctx, []shardlog.PutInput{low, high, low, high})
	require.NoError(t, err, "partial failure is data, not an error")
	require.Equal(t, 1, res.FailedRecordCount)
	require.Equal(t, "shardId-000000000000", res.Records[0].ShardID)
	require.Empty(t, res.Records[0].ErrorCode)
	require.Equal(t, "shardId-000000000001", res.Records[1].ShardID)
	require.Equal(t, "ProvisionedThroughputExceededException", res.Records[2].ErrorCode)
	require.Equal(t, "Rate exceeded for shard shardId-000000000000 in stream s under account 123456789012.", res.Records[2].ErrorMessage)
	require.Empty(t, res.Records[2].ShardID)
	require.True(t, res.Records[2].SequenceNumber.IsZero())
	require.Empty(t, res.Records[3].ErrorCode)

	// The failure cannot go unnoticed in Go: res.Err says which failed.
	err = res.Err()
	require.ErrorIs(t, err, shardlog.ErrProvisionedThroughputExceeded)
	var rec *shardlog.RecordError
	require.ErrorAs(t, err, &rec)
	require.Equal(t, 2, rec.Index)
	require.True(t, rec.Err.Retryable)
	require.EqualError(t, err, "record 2: ProvisionedThroughputExceededException: Rate exceeded for shard shardId-000000000000 in stream s under account 123456789012.")
	ok, err := s.PutBatch(ctx, []shardlog.PutInput{high})
	require.NoError(t, err)
	require.NoError(t, ok.Err())
	failed := shardlog.PutBatchOutput{Records: []shardlog.BatchEntry{{}, {ErrorCode: "InternalFailure", ErrorMessage: "Internal service failure."}}}
	require.ErrorIs(t, failed.Err(), shardlog.ErrInternalFailure, "PutRecords' per-record code")

	require.Len(t, readShard(t, s, "shardId-000000000000"), 1000)
	require.Len(t, readShard(t, s, "shardId-000000000001"), 3)
}

func TestReadCallLimit(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithLimits(shardlog.AWSLimits()))
	s := newStream(t, a, "s", 1)
	put(t, s, "k", "x")
	it := iterator(t, s, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	for i := 0; i < 5; i++ {
		_, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
		require.NoError(t, err, "call %d", i)
	}
	_, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	requireCode(t, err, shardlog.ErrProvisionedThroughputExceeded, "")
	clk.Advance(200 * time.Millisecond)
	_, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	require.NoError(t, err)
}

// TestTenMiBReadLocksShardForFiveSeconds: a call that returned 10 MiB makes
// the shard's reads fail for the next five seconds.
func TestTenMiBReadLocksShardForFiveSeconds(t *testing.T) {
	limits := shardlog.AWSLimits()
	limits.WriteBytesPerSecond, limits.WriteRecordsPerSecond = 0, 0
	a, clk := newAccount(t, shardlog.WithLimits(limits))
	s := newStream(t, a, "s", 1)
	for i := 0; i < 10; i++ {
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: make([]byte, 1<<20-1)})
		require.NoError(t, err)
	}
	put(t, s, "k", "tail")
	out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: iterator(t, s, shardlog.StartingPosition{Type: shardlog.TrimHorizon})})
	require.NoError(t, err)
	require.Len(t, out.Records, 10)
	for _, d := range []time.Duration{0, time.Second, 4*time.Second + 999*time.Millisecond} {
		clk.Set(t0.Add(d))
		_, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: out.NextShardIterator})
		requireCode(t, err, shardlog.ErrProvisionedThroughputExceeded, "")
	}
	clk.Set(t0.Add(5 * time.Second))
	out, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: out.NextShardIterator})
	require.NoError(t, err)
	require.Len(t, out.Records, 1)
}

// TestReadByteRate: 2 MiB/s; a 4 MiB read puts the shard in debt for about
// a second.
func TestReadByteRate(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithLimits(shardlog.Limits{ReadBytesPerSecond: 2 << 20}))
	s := newStream(t, a, "s", 1)
	for i := 0; i < 4; i++ {
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: make([]byte, 1<<20-1)})
		require.NoError(t, err)
	}
	out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: iterator(t, s, shardlog.StartingPosition{Type: shardlog.TrimHorizon})})
	require.NoError(t, err)
	require.Len(t, out.Records, 4)
	_, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: out.NextShardIterator})
	requireCode(t, err, shardlog.ErrProvisionedThroughputExceeded, "")
	clk.Advance(999 * time.Millisecond)
	_, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: out.NextShardIterator})
	requireCode(t, err, shardlog.ErrProvisionedThroughputExceeded, "")
	clk.Advance(time.Millisecond)
	_, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: out.NextShardIterator})
	require.NoError(t, err)
}

func TestLimitsArePerShard(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithLimits(shardlog.Limits{WriteRecordsPerSecond: 10}))
	s := newStream(t, a, "s", 4)
	counts := map[string]int{}
	throttled := 0
	for i := 0; i < 200; i++ {
		r, err := s.Put(ctx, shardlog.PutInput{PartitionKey: fmt.Sprint(i)})
		if err != nil {
			requireCode(t, err, shardlog.ErrProvisionedThroughputExceeded, "")
			throttled++
			continue
		}
		counts[r.ShardID]++
	}
	require.Len(t, counts, 4)
	for _, n := range counts {
		require.Equal(t, 10, n)
	}
	require.Equal(t, 160, throttled)
}
