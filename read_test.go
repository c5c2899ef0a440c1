package shardlog_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

const shard0 = "shardId-000000000000"

func iterator(t *testing.T, s *shardlog.Stream, p shardlog.StartingPosition) string {
	t.Helper()
	it, err := s.GetShardIterator(ctx, shard0, p)
	require.NoError(t, err)
	return it
}

func getData(t *testing.T, s *shardlog.Stream, it string) []string {
	t.Helper()
	out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	require.NoError(t, err)
	var data []string
	for _, r := range out.Records {
		data = append(data, string(r.Data))
	}
	return data
}

func TestIteratorTypes(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	var seqs []shardlog.SequenceNumber
	for i := 0; i < 5; i++ {
		seqs = append(seqs, put(t, s, "k", fmt.Sprint(i)).SequenceNumber)
		clk.Advance(time.Second)
	}
	latest := iterator(t, s, shardlog.StartingPosition{Type: shardlog.Latest})
	put(t, s, "k", "5")

	require.Equal(t, []string{"0", "1", "2", "3", "4", "5"}, getData(t, s, iterator(t, s, shardlog.StartingPosition{Type: shardlog.TrimHorizon})))
	require.Equal(t, []string{"5"}, getData(t, s, latest))
	require.Equal(t, []string{"2", "3", "4", "5"}, getData(t, s, iterator(t, s, shardlog.StartingPosition{Type: shardlog.AtSequenceNumber, SequenceNumber: seqs[2]})))
	require.Equal(t, []string{"3", "4", "5"}, getData(t, s, iterator(t, s, shardlog.StartingPosition{Type: shardlog.AfterSequenceNumber, SequenceNumber: seqs[2]})))
	require.Equal(t, []string{"2", "3", "4", "5"}, getData(t, s, iterator(t, s, shardlog.StartingPosition{Type: shardlog.AtTimestamp, Timestamp: t0.Add(2 * time.Second)})))
	require.Equal(t, []string{"3", "4", "5"}, getData(t, s, iterator(t, s, shardlog.StartingPosition{Type: shardlog.AtTimestamp, Timestamp: t0.Add(2*time.Second + time.Millisecond)})))
	require.Equal(t, []string{"0", "1", "2", "3", "4", "5"}, getData(t, s, iterator(t, s, shardlog.StartingPosition{Type: shardlog.AtTimestamp, Timestamp: t0.Add(-time.Hour)})))
	require.Equal(t, []string{"0", "1", "2", "3", "4", "5"}, getData(t, s, iterator(t, s, shardlog.StartingPosition{Type: shardlog.AtTimestamp, Timestamp: time.Date(-1e11, 1, 1, 0, 0, 0, 0, time.UTC)})),
		"a time before the int64 range of milliseconds is the trim horizon")
	require.Equal(t, []string{"5"}, getData(t, s, iterator(t, s, shardlog.StartingPosition{Type: shardlog.AtTimestamp, Timestamp: clk.Now()})))

	// The shard's StartingSequenceNumber sorts before every record, for both
	// AT_ and AFTER_.
	ls, err := s.ListShards(ctx, shardlog.ListShardsInput{})
	require.NoError(t, err)
	start := ls.Shards[0].SequenceNumberRange.StartingSequenceNumber
	require.Equal(t, []string{"0", "1", "2", "3", "4", "5"}, getData(t, s, iterator(t, s, shardlog.StartingPosition{Type: shardlog.AtSequenceNumber, SequenceNumber: start})))
	require.Equal(t, []string{"0", "1", "2", "3", "4", "5"}, getData(t, s, iterator(t, s, shardlog.StartingPosition{Type: shardlog.AfterSequenceNumber, SequenceNumber: start})))
}

func TestGetShardIteratorErrors(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	other := newStream(t, a, "other", 2)
	onShard1 := put(t, s, "k", "x")
	for onShard1.ShardID != "shardId-000000000001" {
		onShard1 = put(t, s, fmt.Sprint(time.Now().UnixNano()), "x")
	}
	foreign := put(t, other, "k", "x").SequenceNumber.String()
	for foreign[11:21] != "0000000000" { // a number of the other stream's shard 0
		foreign = put(t, other, fmt.Sprint(time.Now().UnixNano()), "x").SequenceNumber.String()
	}
	const must = "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified "
	for _, tc := range []struct {
		name   string
		shard  string
		p      shardlog.StartingPosition
		code   *shardlog.Error
		detail string
	}{
		{"unknown type", shard0, shardlog.StartingPosition{Type: "OLDEST"}, shardlog.ErrValidation,
			"1 validation error detected: Value 'OLDEST' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, AT_SEQUENCE_NUMBER, AT_TIMESTAMP, TRIM_HORIZON, LATEST]"},
		{"no type", shard0, shardlog.StartingPosition{}, shardlog.ErrValidation, ""},
		{"bad shard id", "shard 0", shardlog.StartingPosition{Type: shardlog.Latest}, shardlog.ErrValidation, ""},
		{"empty shard id", "", shardlog.StartingPosition{Type: shardlog.Latest}, shardlog.ErrValidation, ""},
		{"unknown shard", "shardId-000000000002", shardlog.StartingPosition{Type: shardlog.Latest}, shardlog.ErrResourceNotFound,
			"Shard shardId-000000000002 in stream s under account 123456789012 does not exist"},
		{"shard id of another form", "shardId-2", shardlog.StartingPosition{Type: shardlog.Latest}, shardlog.ErrResourceNotFound, ""},
		{"latest with number", shard0, wirePosition(shardlog.Latest, "1"), shardlog.ErrInvalidArgument,
			must + "LATEST and also a StartingSequenceNumber."},
		{"trim horizon with number", shard0, wirePosition(shardlog.TrimHorizon, "1"), shardlog.ErrInvalidArgument,
			must + "TRIM_HORIZON and also a StartingSequenceNumber."},
		{"trim horizon with a typed number", shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon, SequenceNumber: onShard1.SequenceNumber}, shardlog.ErrInvalidArgument,
			must + "TRIM_HORIZON and also a StartingSequenceNumber."},
		{"at without number", shard0, shardlog.StartingPosition{Type: shardlog.AtSequenceNumber}, shardlog.ErrInvalidArgument,
			must + "AT_SEQUENCE_NUMBER and no StartingSequenceNumber."},
		{"after without number", shard0, shardlog.StartingPosition{Type: shardlog.AfterSequenceNumber}, shardlog.ErrInvalidArgument,
			must + "AFTER_SEQUENCE_NUMBER and no StartingSequenceNumber."},
		{"malformed number", shard0, wirePosition(shardlog.AtSequenceNumber, "01"), shardlog.ErrValidation, ""},
		{"number we did not issue", shard0, wirePosition(shardlog.AtSequenceNumber, "12345"), shardlog.ErrInvalidArgument,
			"StartingSequenceNumber 12345 used in GetShardIterator on shard shardId-000000000000 in stream s under account 123456789012 is invalid."},
		{"number of another shard", shard0, shardlog.At(onShard1.SequenceNumber), shardlog.ErrInvalidArgument,
			"Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a call to a shard with shardId-000000000000"},
		{"number of another stream", shard0, wirePosition(shardlog.AfterSequenceNumber, foreign), shardlog.ErrInvalidArgument,
			"StartingSequenceNumber " + foreign + " used in GetShardIterator on shard shardId-000000000000 in stream s under account 123456789012 is invalid because it did not come from this stream."},
		{"timestamp missing", shard0, shardlog.StartingPosition{Type: shardlog.AtTimestamp}, shardlog.ErrInvalidArgument,
			"Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter."},
		{"timestamp in the future", shard0, shardlog.StartingPosition{Type: shardlog.AtTimestamp, Timestamp: clk.Now().Add(time.Millisecond)}, shardlog.ErrInvalidArgument,
			fmt.Sprintf("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: %d, currentTimestampInMillis: %d", t0.UnixMilli()+1, t0.UnixMilli())},
		// Past the int64 range of milliseconds: still in the future, not wrapped round into the past.
		{"timestamp in the year 10^11", shard0, shardlog.StartingPosition{Type: shardlog.AtTimestamp, Timestamp: time.Date(1e11, 1, 1, 0, 0, 0, 0, time.UTC)}, shardlog.ErrInvalidArgument,
			fmt.Sprintf("The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: %d, currentTimestampInMillis: %d", int64(math.MaxInt64), t0.UnixMilli())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.GetShardIterator(ctx, tc.shard, tc.p)
			requireCode(t, err, tc.code, tc.detail)
		})
	}
}

func TestIteratorExpiresAfterFiveMinutes(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	it := iterator(t, s, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	clk.Advance(4*time.Minute + 59*time.Second)
	out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	require.NoError(t, err)
	clk.Advance(2 * time.Second) // 5m01s after issue
	_, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	requireCode(t, err, shardlog.ErrExpiredIterator,
		"Iterator expired. The iterator was created at time Fri Jan 02 03:04:05 UTC 2026 while right now it is Fri Jan 02 03:09:06 UTC 2026 which is further in the future than the tolerated delay of 300000 milliseconds.")
	// The iterator GetRecords returned is new and still good.
	_, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: out.NextShardIterator})
	require.NoError(t, err)
}

func TestGetRecordsRejectsBadIterators(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	other := newStream(t, a, "other", 1)
	it := iterator(t, s, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	flipped := []byte(it)
	flipped[len(flipped)/2] ^= 0x01
	b, _ := newAccount(t)
	newStream(t, b, "s", 1)
	for name, tc := range map[string]struct {
		it   string
		code *shardlog.Error
	}{
		"empty":     {"", shardlog.ErrValidation},
		"too long":  {strings.Repeat("A", 513), shardlog.ErrValidation},
		"garbage":   {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", shardlog.ErrInvalidArgument},
		"tampered":  {string(flipped), shardlog.ErrInvalidArgument},
		"truncated": {it[:len(it)-2], shardlog.ErrInvalidArgument},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := a.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: tc.it})
			requireCode(t, err, tc.code, "")
		})
	}
	_, err := a.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: string(flipped)})
	requireCode(t, err, shardlog.ErrInvalidArgument, "Invalid ShardIterator.")
	_, err = other.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	requireCode(t, err, shardlog.ErrInvalidArgument, "")
	_, err = b.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	requireCode(t, err, shardlog.ErrInvalidArgument, "")
	_, err = a.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it, StreamARN: other.ARN()})
	requireCode(t, err, shardlog.ErrInvalidArgument, "")
	_, err = a.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it, StreamARN: s.ARN()})
	require.NoError(t, err)
	for _, limit := range []int{-1, 10001} {
		_, err = a.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it, Limit: limit})
		requireCode(t, err, shardlog.ErrValidation, "")
	}
}

func TestIteratorOfDeletedStream(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	put(t, s, "k", "old")
	it := iterator(t, s, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	require.NoError(t, a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}}))
	_, err := a.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	requireCode(t, err, shardlog.ErrResourceNotFound, "Stream s under account 123456789012 not found.")
	s2 := newStream(t, a, "s", 1)
	put(t, s2, "k", "new")
	_, err = a.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	requireCode(t, err, shardlog.ErrResourceNotFound, "")
	_, err = s2.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	requireCode(t, err, shardlog.ErrInvalidArgument, "")
}

func TestGetRecordsLimitsAndMillisBehind(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	for i := 0; i < 10005; i++ {
		if i == 10002 {
			clk.Advance(7 * time.Second)
		}
		put(t, s, "k", "")
	}
	clk.Advance(3 * time.Second)
	it := iterator(t, s, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	require.NoError(t, err)
	require.Len(t, out.Records, 10000, "at most 10000 records a call")
	require.Equal(t, int64(10000), out.MillisBehindLatest, "the next unread record arrived 10 s ago")
	out, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: out.NextShardIterator, Limit: 2})
	require.NoError(t, err)
	require.Len(t, out.Records, 2)
	require.Equal(t, int64(3000), out.MillisBehindLatest)
	out, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: out.NextShardIterator})
	require.NoError(t, err)
	require.Len(t, out.Records, 3)
	require.Zero(t, out.MillisBehindLatest)
	out, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: out.NextShardIterator})
	require.NoError(t, err)
	require.NotNil(t, out.Records)
	require.Empty(t, out.Records)
	require.NotEmpty(t, out.NextShardIterator, "an open shard always gives a next iterator")
}

func TestGetRecordsStopsAt10MiB(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	for i := 0; i < 12; i++ {
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: make([]byte, 1<<20-1)})
		require.NoError(t, err)
	}
	out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: iterator(t, s, shardlog.StartingPosition{Type: shardlog.TrimHorizon})})
	require.NoError(t, err)
	require.Len(t, out.Records, 10)
	out, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: out.NextShardIterator})
	require.NoError(t, err)
	require.Len(t, out.Records, 2)
}

func collect(t *testing.T, seq func(func(shardlog.Record, error) bool)) ([]string, error) {
	t.Helper()
	var data []string
	for r, err := range seq {
		if err != nil {
			return data, err
		}
		data = append(data, string(r.Data))
	}
	return data, nil
}

func TestRecordsIteratorEndsAtTip(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	for i := 0; i < 3000; i++ {
		put(t, s, "k", fmt.Sprint(i))
	}
	data, err := collect(t, s.Records(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}))
	require.NoError(t, err)
	require.Len(t, data, 3000)
	require.Equal(t, "2999", data[2999])

	// Breaking out early is fine.
	n := 0
	for range s.Records(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		n++
		if n == 5 {
			break
		}
	}
	require.Equal(t, 5, n)

	_, err = collect(t, s.Records(ctx, "shardId-000000000009", shardlog.StartingPosition{Type: shardlog.TrimHorizon}))
	requireCode(t, err, shardlog.ErrResourceNotFound, "")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = collect(t, s.Records(cctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}))
	require.ErrorIs(t, err, context.Canceled)
}

func TestTailWaitsForRecords(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	put(t, s, "k", "before")
	cctx, cancel := context.WithCancel(ctx)
	got := make(chan string)
	errc := make(chan error, 1)
	go func() {
		for r, err := range s.Tail(cctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
			if err != nil {
				errc <- err
				return
			}
			got <- string(r.Data)
		}
		errc <- nil
	}()
	require.Equal(t, "before", <-got)
	for i := 0; i < 100; i++ {
		put(t, s, "k", fmt.Sprint(i))
		require.Equal(t, fmt.Sprint(i), <-got)
	}
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
}

func TestTailEndsOnCloseAndDelete(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	d := newStream(t, a, "d", 1)
	errs := make([]chan error, 2)
	for i, st := range []*shardlog.Stream{s, d} {
		errs[i] = make(chan error, 1)
		go func() {
			_, err := collect(t, st.Tail(ctx, shard0, shardlog.StartingPosition{Type: shardlog.Latest}))
			errs[i] <- err
		}()
	}
	require.NoError(t, a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "d"}}))
	require.ErrorIs(t, <-errs[1], shardlog.ErrResourceNotFound)
	require.NoError(t, a.Close())
	require.ErrorIs(t, <-errs[0], shardlog.ErrClosed)
}

// TestShortShardIDs: the Go API reads input shard IDs as Kinesis does, so
// "shardId-1", "1" and "x-0001" all name shardId-000000000001, and
// errors name the shard in its full form, or as given if it names none.
func TestShortShardIDs(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 2)
	put(t, s, "k", "v")
	for _, id := range []string{"shardId-1", "1", "x-0001", "-1", "shardId-000000000001"} {
		it, err := s.GetShardIterator(ctx, id, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
		require.NoError(t, err, id)
		out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
		require.NoError(t, err, id)
		require.Equal(t, "shardId-000000000001", out.Records[0].ShardID, id)
	}
	for id, message := range map[string]string{
		"shardId-7":            "Shard shardId-000000000007 in stream s under account 123456789012 does not exist",
		"shardId-":             "Could not find shard shardId- in stream s under account 123456789012.",
		"a-b-1":                "Could not find shard a-b-1 in stream s under account 123456789012.",
		"2147483648":           "Could not find shard 2147483648 in stream s under account 123456789012.",
		"shardId-002147483647": "Shard shardId-002147483647 in stream s under account 123456789012 does not exist",
	} {
		_, err := s.GetShardIterator(ctx, id, shardlog.StartingPosition{Type: shardlog.Latest})
		require.ErrorIs(t, err, shardlog.ErrResourceNotFound, id)
		require.EqualError(t, err, "ResourceNotFoundException: "+message, id)
	}
	split, err := s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "0", NewStartingHashKey: "1000"})
	require.NoError(t, err)
	child, err := s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: split.ChildShardIDs[0], AdjacentShardToMerge: "x-" + strings.TrimPrefix(split.ChildShardIDs[1], "shardId-")})
	require.NoError(t, err)
	require.Equal(t, "shardId-000000000004", child.ChildShardID)
	_, err = s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "9", NewStartingHashKey: "1000"})
	require.EqualError(t, err, "ResourceNotFoundException: Could not find shard shardId-000000000009 in stream s under account 123456789012.")
}
