package shardlog_test

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/memstat"
)

func dataOf(recs []shardlog.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.Data))
	}
	return out
}

func TestRecordsExpireAfterRetention(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	putBoth := func(d string) {
		for _, hk := range []string{"0", maxHash} {
			_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: hk, Data: []byte(d)})
			require.NoError(t, err)
		}
	}
	putBoth("old")
	clk.Advance(time.Hour)
	putBoth("new")
	sum, err := s.DescribeStreamSummary(ctx)
	require.NoError(t, err)
	require.Equal(t, 24, sum.RetentionPeriodHours)

	clk.Set(t0.Add(23*time.Hour + 59*time.Minute))
	for _, id := range []string{shard0, "shardId-000000000001"} {
		require.Equal(t, []string{"old", "new"}, dataOf(readShard(t, s, id)))
	}
	clk.Set(t0.Add(24 * time.Hour)) // exactly 24 h old is not older than the period
	require.Equal(t, []string{"old", "new"}, dataOf(readShard(t, s, shard0)))
	clk.Set(t0.Add(24*time.Hour + time.Millisecond))
	for _, id := range []string{shard0, "shardId-000000000001"} {
		require.Equal(t, []string{"new"}, dataOf(readShard(t, s, id)), id)
	}
	clk.Advance(time.Hour)
	require.Empty(t, readShard(t, s, shard0))
	data, err := collect(t, s.Records(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}))
	require.NoError(t, err)
	require.Empty(t, data)
}

func TestPositionsIntoTrimmedData(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	var seqs []shardlog.SequenceNumber
	for i := 0; i < 4; i++ {
		seqs = append(seqs, put(t, s, "k", fmt.Sprint(i)).SequenceNumber)
		clk.Advance(time.Hour)
	}
	clk.Set(t0.Add(24*time.Hour - time.Minute))
	early := iterator(t, s, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	clk.Set(t0.Add(25*time.Hour + time.Millisecond)) // records 0 and 1 expired
	oldest := []string{"2", "3"}
	require.Equal(t, oldest, getData(t, s, iterator(t, s, shardlog.StartingPosition{Type: shardlog.TrimHorizon})))
	require.Equal(t, oldest, getData(t, s, iterator(t, s, shardlog.StartingPosition{Type: shardlog.AtTimestamp, Timestamp: t0})))
	require.Equal(t, oldest, getData(t, s, iterator(t, s, shardlog.StartingPosition{Type: shardlog.AtSequenceNumber, SequenceNumber: seqs[0]})))
	require.Equal(t, oldest, getData(t, s, iterator(t, s, shardlog.StartingPosition{Type: shardlog.AfterSequenceNumber, SequenceNumber: seqs[0]})))
	require.Equal(t, []string{"3"}, getData(t, s, iterator(t, s, shardlog.StartingPosition{Type: shardlog.AfterSequenceNumber, SequenceNumber: seqs[2]})))
	_, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: early})
	requireCode(t, err, shardlog.ErrExpiredIterator, "") // the iterator itself is older than five minutes

	// An iterator made before a trim continues from the oldest live record,
	// and MillisBehindLatest measures from it.
	clk.Set(t0.Add(25*time.Hour - 2*time.Minute))
	it := iterator(t, s, shardlog.StartingPosition{Type: shardlog.AfterSequenceNumber, SequenceNumber: seqs[0]}) // at record 1
	clk.Set(t0.Add(25*time.Hour + time.Minute))                                                                  // record 1 expired meanwhile
	out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, []string{"2"}, dataOf(out.Records))
	require.Equal(t, (22*time.Hour + time.Minute).Milliseconds(), out.MillisBehindLatest, "record 3 arrived at t0+3h")
}

func TestRetentionPeriodRules(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithDelays(shardlog.Delays{Update: time.Second}))
	s := newStream(t, a, "s", 1)
	for _, tc := range []struct {
		increase bool
		hours    int
		detail   string
	}{
		{true, 23, "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short."},
		{false, 0, "Minimum allowed retention period is 24 hours. Requested retention period (0 hours) is too short."},
		{true, 8761, "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long."},
		{false, 48, "Requested retention period (48 hours) for stream s can not be longer than existing retention period (24 hours). Use IncreaseRetentionPeriod API."},
	} {
		var err error
		if tc.increase {
			err = s.IncreaseStreamRetentionPeriod(ctx, time.Duration(tc.hours)*time.Hour)
		} else {
			err = s.DecreaseStreamRetentionPeriod(ctx, time.Duration(tc.hours)*time.Hour)
		}
		requireCode(t, err, shardlog.ErrInvalidArgument, tc.detail)
	}
	requireCode(t, s.IncreaseStreamRetentionPeriod(ctx, 36*time.Hour+time.Minute), shardlog.ErrInvalidArgument,
		"A retention period is a whole number of hours; 36h1m0s is not.")
	require.NoError(t, s.IncreaseStreamRetentionPeriod(ctx, 24*time.Hour), "equal is accepted")
	require.NoError(t, s.DecreaseStreamRetentionPeriod(ctx, 24*time.Hour), "equal is accepted")
	require.NoError(t, s.IncreaseStreamRetentionPeriod(ctx, 8760*time.Hour))
	sum, err := s.DescribeStreamSummary(ctx)
	require.NoError(t, err)
	require.Equal(t, 8760, sum.RetentionPeriodHours)
	require.Equal(t, shardlog.StatusUpdating, sum.StreamStatus)
	requireCode(t, s.DecreaseStreamRetentionPeriod(ctx, 48*time.Hour), shardlog.ErrResourceInUse, "")
	clk.Advance(time.Second)
	requireCode(t, s.IncreaseStreamRetentionPeriod(ctx, 100*time.Hour), shardlog.ErrInvalidArgument,
		"Requested retention period (100 hours) for stream s can not be shorter than existing retention period (8760 hours). Use DecreaseRetentionPeriod API.")
	require.NoError(t, s.DecreaseStreamRetentionPeriod(ctx, 48*time.Hour))
}

func TestRetentionChangesApplyAtOnce(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	put(t, s, "k", "day0")
	clk.Advance(30 * time.Hour)
	put(t, s, "k", "day1")
	// No read since: "day0" expired but may still be stored. Raising the
	// period must not bring it back.
	require.NoError(t, s.IncreaseStreamRetentionPeriod(ctx, 72*time.Hour))
	require.Equal(t, []string{"day1"}, dataOf(readShard(t, s, shard0)))

	clk.Advance(40 * time.Hour) // "day1" is 40 h old: live under 72 h
	put(t, s, "k", "day2")
	require.Equal(t, []string{"day1", "day2"}, dataOf(readShard(t, s, shard0)))
	require.NoError(t, s.DecreaseStreamRetentionPeriod(ctx, 24*time.Hour))
	require.Equal(t, []string{"day2"}, dataOf(readShard(t, s, shard0)), "older than the new period: gone at once")
}

func TestClosedShardExpires(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	put(t, s, "k", "in the parent")
	clk.Advance(time.Hour)
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "1000"})))
	clk.Advance(time.Hour)
	put(t, s, "k", "in a child")

	clk.Set(t0.Add(24 * time.Hour))
	require.Len(t, listAll(t, s, shardlog.ShardFilter{}), 3, "the parent's record is exactly 24 h old")
	clk.Set(t0.Add(24*time.Hour + time.Millisecond))
	shards := listAll(t, s, shardlog.ShardFilter{})
	require.Equal(t, []string{"shardId-000000000001", "shardId-000000000002"}, ids(shards))
	require.Equal(t, shard0, shards[0].ParentShardID, "children keep their parent's ID")
	require.Equal(t, ids(shards), ids(listAll(t, s, shardlog.ShardFilter{Type: shardlog.FilterAtTrimHorizon})), "the children are now the oldest shards")
	_, err := s.GetShardIterator(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	requireCode(t, err, shardlog.ErrResourceNotFound, "Shard shardId-000000000000 in stream s under account 123456789012 does not exist")
	requireCode(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: shard0, AdjacentShardToMerge: "shardId-000000000001"})), shardlog.ErrResourceNotFound, "")

	require.NoError(t, a.ApplyRetention(ctx)) // releases it for good
	_, err = s.GetShardIterator(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	requireCode(t, err, shardlog.ErrResourceNotFound, "")
	require.Len(t, listAll(t, s, shardlog.ShardFilter{}), 2)
	recs, err := collect(t, s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}))
	require.NoError(t, err)
	require.Equal(t, []string{"in a child"}, recs)
}

// TestExpiredShardStaysGoneAfterAFailedChange: a reshard that fails after
// the stream forgot an expired shard does not bring the shard back, in
// memory or on disk, and a durable account still closes.
func TestExpiredShardStaysGoneAfterAFailedChange(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		var opts []shardlog.Option
		if dir != "" {
			opts = append(opts, shardlog.WithDir(dir), shardlog.WithSegmentSize(64<<10))
		}
		a, clk := newAccount(t, opts...)
		s := newStream(t, a, "s", 1)
		for range 4 { // fills a segment file, which expiry deletes
			put(t, s, "k", string(make([]byte, 40<<10)))
		}
		require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "1000"})))
		clk.Advance(25 * time.Hour)
		requireCode(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: "shardId-000000000001", AdjacentShardToMerge: "shardId-000000000009"})), shardlog.ErrResourceNotFound, "")
		require.Equal(t, []string{"shardId-000000000001", "shardId-000000000002"}, ids(listAll(t, s, shardlog.ShardFilter{})))
		require.NoError(t, a.Close())
	}
}

// TestExpiryReturnsMemory fills a stream with 64 MiB, lets it expire, and
// checks the heap comes back.
func TestExpiryReturnsMemory(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 4)
	before := memstat.HeapAlloc()
	data := make([]byte, 1024)
	for i := 0; i < 64<<10; i++ {
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: fmt.Sprint(i % 512), Data: data})
		require.NoError(t, err)
	}
	full := memstat.HeapAlloc()
	require.Greater(t, full-before, int64(60<<20))
	clk.Advance(25 * time.Hour)
	require.NoError(t, a.ApplyRetention(ctx))
	after := memstat.HeapAlloc()
	require.Less(t, after-before, int64(8<<20), "full %d MiB, after expiry %d MiB", (full-before)>>20, (after-before)>>20)
	runtime.KeepAlive(s)
}

// TestJanitorReachesIdleShards: nobody reads or writes, yet the janitor,
// driven by the manual clock, releases the expired records.
func TestJanitorReachesIdleShards(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithJanitor(time.Hour))
	s := newStream(t, a, "s", 2)
	before := memstat.HeapAlloc()
	data := make([]byte, 1024)
	for i := 0; i < 32<<10; i++ {
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: fmt.Sprint(i % 64), Data: data})
		require.NoError(t, err)
	}
	require.Greater(t, memstat.HeapAlloc()-before, int64(30<<20))
	clk.Advance(23 * time.Hour)
	require.Greater(t, memstat.HeapAlloc()-before, int64(30<<20), "nothing expired yet")
	clk.Advance(2 * time.Hour) // the janitor's 25th tick runs past the expiry
	require.Less(t, memstat.HeapAlloc()-before, int64(6<<20))
}

func TestJanitorOnTheSystemClockStopsOnClose(t *testing.T) {
	a, err := shardlog.NewAccount(shardlog.WithJanitor(time.Millisecond))
	require.NoError(t, err)
	s, _ := a.Stream(shardlog.StreamRef{StreamName: "none"})
	require.Nil(t, s)
	for i := 0; i < 3; i++ {
		require.NoError(t, a.ApplyRetention(ctx))
	}
	require.NoError(t, a.Close()) // goleak (TestMain) checks no goroutine is left
	require.ErrorIs(t, a.ApplyRetention(ctx), shardlog.ErrClosed)
}

func TestRetentionOptionsValidate(t *testing.T) {
	for _, o := range []shardlog.Option{
		shardlog.WithRetention(23 * time.Hour), shardlog.WithRetention(8761 * time.Hour), shardlog.WithRetention(25*time.Hour + time.Minute),
		shardlog.WithSizeBound(shardlog.SizeBound{Bytes: -1}), shardlog.WithJanitor(0),
	} {
		_, err := shardlog.NewAccount(o)
		require.Error(t, err)
	}
	a, _ := newAccount(t, shardlog.WithRetention(48*time.Hour))
	s := newStream(t, a, "s", 1)
	sum, err := s.DescribeStreamSummary(ctx)
	require.NoError(t, err)
	require.Equal(t, 48, sum.RetentionPeriodHours)
}
