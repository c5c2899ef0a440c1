package shardlog_test

import (
	"errors"
	"fmt"
	"iter"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

// putSeqs puts records "from".."to-1" under key k and returns their
// sequence numbers.
func putSeqs(t *testing.T, s *shardlog.Stream, k string, from, to int) []shardlog.SequenceNumber {
	t.Helper()
	var seqs []shardlog.SequenceNumber
	for i := from; i < to; i++ {
		seqs = append(seqs, put(t, s, k, fmt.Sprintf("%s/%d", k, i)).SequenceNumber)
	}
	return seqs
}

// TestTailReportsWhatASizeBoundRemoved: a reader the bound overtakes is told
// which records it missed, then reads on from the oldest one left.
func TestTailReportsWhatASizeBoundRemoved(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithSizeBound(shardlog.SizeBound{Records: 100}))
	s := newStream(t, a, "s", 1)
	seqs := putSeqs(t, s, "k", 0, 50)
	next, stop := iter.Pull2(s.Tail(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}))
	defer stop()
	for i := range 10 {
		r, err, _ := next()
		require.NoError(t, err)
		require.Equal(t, seqs[i], r.SequenceNumber)
	}
	seqs = append(seqs, putSeqs(t, s, "k", 50, 250)...)

	_, err, ok := next()
	require.True(t, ok)
	require.ErrorIs(t, err, shardlog.ErrRecordsLost)
	var lost *shardlog.LostRecordsError
	require.ErrorAs(t, err, &lost)
	require.Equal(t, shard0, lost.ShardID)
	require.Equal(t, seqs[10], lost.First)
	resume := 10 + int(lost.Count)
	require.Equal(t, seqs[resume-1], lost.Last)
	require.GreaterOrEqual(t, resume, 150, "the bound keeps at most 100 records")

	for i := resume; i < 250; i++ {
		r, err, _ := next()
		require.NoError(t, err, "record %d", i)
		require.Equal(t, seqs[i], r.SequenceNumber, "record %d", i)
	}
}

// TestRecordsReportsATrimmedStart: reading after a record that has expired
// since reports the records in between as lost; GetRecords, as in Kinesis,
// starts at the oldest record without a word.
func TestRecordsReportsATrimmedStart(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	old := putSeqs(t, s, "k", 0, 5)
	clk.Advance(23 * time.Hour)
	live := putSeqs(t, s, "k", 5, 8)
	clk.Advance(2 * time.Hour)

	var got []string
	var lost *shardlog.LostRecordsError
	for r, err := range s.Records(ctx, shard0, shardlog.StartingPosition{Type: shardlog.AfterSequenceNumber, SequenceNumber: old[1]}) {
		if errors.As(err, &lost) {
			got = append(got, fmt.Sprintf("lost %d", lost.Count))
			require.Equal(t, old[2], lost.First)
			require.Equal(t, old[4], lost.Last)
			continue
		}
		require.NoError(t, err)
		got = append(got, string(r.Data))
	}
	require.Equal(t, []string{"lost 3", "k/5", "k/6", "k/7"}, got)

	it, err := s.GetShardIterator(ctx, shard0, shardlog.StartingPosition{Type: shardlog.AfterSequenceNumber, SequenceNumber: old[1]})
	require.NoError(t, err)
	out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	require.NoError(t, err)
	require.Len(t, out.Records, 3)
	require.Equal(t, live[0], out.Records[0].SequenceNumber)
}

// TestTailAllReportsExpiredRecords: a whole-stream reader that falls behind
// retention hears, shard by shard, what it missed.
func TestTailAllReportsExpiredRecords(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	for i := range 40 {
		put(t, s, fmt.Sprint("key-", i%7), fmt.Sprintf("old/%d", i))
	}
	clk.Advance(23 * time.Hour)
	for i := range 10 {
		put(t, s, fmt.Sprint("key-", i%7), fmt.Sprintf("new/%d", i))
	}
	read, lostCount, newRecords := 0, uint64(0), 0
	for r, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		if errors.Is(err, shardlog.ErrRecordsLost) {
			var lost *shardlog.LostRecordsError
			require.ErrorAs(t, err, &lost)
			lostCount += lost.Count
			continue
		}
		require.NoError(t, err)
		if read++; read == 5 {
			clk.Advance(2 * time.Hour) // the old records expire under the reader
		}
		if string(r.Data[:4]) == "new/" {
			newRecords++
		}
	}
	require.Equal(t, 40, read-newRecords+int(lostCount), "every old record read or reported lost")
	require.Equal(t, 10, newRecords)
	require.NotZero(t, lostCount)

	// From the trim horizon, nothing was missed.
	n := 0
	for _, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err, "nothing is lost from the trim horizon")
		n++
	}
	require.Equal(t, 10, n)
}

// TestTrimHorizonMissesNothing: records removed before a read from
// TRIM_HORIZON began are not reported, in child shards either.
func TestTrimHorizonMissesNothing(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithSizeBound(shardlog.SizeBound{Records: 100}))
	s := newStream(t, a, "s", 1)
	written := map[string]int{}
	writeKeys(t, s, written, 50)
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "12345678901234567890"})))
	writeKeys(t, s, written, 200) // the bound drops the parent's records and some of the children's
	n := 0
	for _, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err)
		n++
	}
	require.Greater(t, n, 80)
	require.LessOrEqual(t, n, 100)
}
