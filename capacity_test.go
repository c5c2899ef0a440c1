package shardlog

import (
	"testing"
	"time"

	"github.com/shardlog/shardlog/internal/hashkey"
	"github.com/stretchr/testify/require"
)

// shardUnit is the per-shard write limit of the capacity tests, in
// records a second: AWS's 1000 scaled down, so that a long ramp holds few
// records.
const shardUnit = 40

func onDemandAccount(t *testing.T, opts ...Option) (*Account, *ManualClock) {
	t.Helper()
	clk := NewManualClock(tStart)
	a, err := NewAccount(append([]Option{WithClock(clk), WithLimits(Limits{WriteRecordsPerSecond: shardUnit})}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	return a, clk
}

// load writes n records a second for secs seconds of the clock, of size
// bytes, whose hash keys are spread evenly over the key space (or all at
// key, if set), and returns how many were stored and how many throttled.
func load(t *testing.T, s *Stream, clk *ManualClock, n, size, secs int, key string) (stored, throttled int) {
	t.Helper()
	keys := hashkey.Uniform(n)
	data := make([]byte, size-1)
	for range secs {
		batch := make([]PutInput, 0, 500)
		flush := func() {
			out, err := s.PutBatch(bg, batch)
			require.NoError(t, err)
			stored += len(batch) - out.FailedRecordCount
			for _, r := range out.Records {
				if r.ErrorCode != "" {
					require.Equal(t, "ProvisionedThroughputExceededException", r.ErrorCode)
					throttled++
				}
			}
			batch = batch[:0]
		}
		for i := range n {
			k := key
			if k == "" {
				k = keys[i].Start.String()
			}
			batch = append(batch, PutInput{PartitionKey: "k", Data: data, ExplicitHashKey: k})
			if len(batch) == cap(batch) {
				flush()
			}
		}
		if len(batch) > 0 {
			flush()
		}
		clk.Advance(time.Second)
	}
	return stored, throttled
}

func openShardsOf(t *testing.T, s *Stream) int {
	t.Helper()
	sum, err := s.DescribeStreamSummary(bg)
	require.NoError(t, err)
	return sum.OpenShardCount
}

// TestOnDemandScalesWithItsTraffic: an ON_DEMAND stream starts with 4
// shards, splits every shard that takes more than half its limit at the
// next minute's measurement, and so never throttles traffic up to twice
// its peak; beyond that it throttles until the next measurement.
func TestOnDemandScalesWithItsTraffic(t *testing.T) {
	a, clk := onDemandAccount(t)
	s, err := a.CreateStream(bg, CreateStreamInput{StreamName: "od", Mode: OnDemand})
	require.NoError(t, err)
	require.Equal(t, 4, openShardsOf(t, s))
	total := 0

	// Three quarters of what 4 shards take: each shard is hot.
	stored, throttled := load(t, s, clk, 3*shardUnit, 16, 61, "")
	total += stored
	require.Zero(t, throttled)
	require.Equal(t, 8, openShardsOf(t, s), "each hot shard split at the minute's measurement")
	sum, err := s.DescribeStreamSummary(bg)
	require.NoError(t, err)
	require.Equal(t, StatusActive, sum.StreamStatus, "scaling keeps the stream ACTIVE")

	stored, throttled = load(t, s, clk, 3*shardUnit, 16, 60, "")
	total += stored
	require.Zero(t, throttled)
	require.Equal(t, 8, openShardsOf(t, s), "at a quarter of their limit, no shard is hot")

	for _, step := range []struct{ rate, shards int }{{6, 16}, {12, 32}} { // twice the peak, each time
		stored, throttled = load(t, s, clk, step.rate*shardUnit, 16, 60, "")
		total += stored
		require.Zero(t, throttled, "twice the peak is never throttled")
		require.Equal(t, step.shards, openShardsOf(t, s))
	}

	// More than three times the peak throttles until the next
	// measurement, and not after it.
	stored, throttled = load(t, s, clk, 40*shardUnit, 16, 60, "")
	total += stored
	require.Positive(t, throttled)
	require.Equal(t, 64, openShardsOf(t, s))
	stored, throttled = load(t, s, clk, 40*shardUnit, 16, 30, "")
	total += stored
	require.Zero(t, throttled)

	// Every record is there, parents before children.
	got := 0
	for _, err := range s.ReadAll(bg, StartingPosition{Type: TrimHorizon}) {
		require.NoError(t, err)
		got++
	}
	require.Equal(t, total, got)
}

// TestOnDemandScalesOnBytesToo: large records pass half a shard's byte
// limit long before its record limit.
func TestOnDemandScalesOnBytesToo(t *testing.T) {
	clk := NewManualClock(tStart)
	a, err := NewAccount(WithClock(clk), WithLimits(Limits{WriteBytesPerSecond: 16 << 10, WriteRecordsPerSecond: 1000}))
	require.NoError(t, err)
	defer a.Close()
	s, err := a.CreateStream(bg, CreateStreamInput{StreamName: "od", Mode: OnDemand})
	require.NoError(t, err)
	load(t, s, clk, 4*50, 256, 61, "") // 12.5 KiB/s a shard, 50 records/s
	require.Equal(t, 8, openShardsOf(t, s))
}

// TestOnDemandHotKeyStillThrottles: shard limits apply to one hot key, as
// on AWS: splitting cannot spread a single hash key.
func TestOnDemandHotKeyStillThrottles(t *testing.T) {
	a, clk := onDemandAccount(t)
	s, err := a.CreateStream(bg, CreateStreamInput{StreamName: "od", Mode: OnDemand})
	require.NoError(t, err)
	_, throttled := load(t, s, clk, 2*shardUnit, 16, 61, "7")
	require.Positive(t, throttled)
	require.Equal(t, 5, openShardsOf(t, s), "the hot shard split")
	_, throttled = load(t, s, clk, 2*shardUnit, 16, 30, "7")
	require.Positive(t, throttled, "its key's child takes no more than one shard")
}

// TestProvisionedStreamsDoNotScale: the same traffic on a PROVISIONED
// stream throttles and leaves the shards as they are; switched to
// ON_DEMAND, it scales from the next measurement on, and switched back it
// keeps the shards it has.
func TestProvisionedStreamsDoNotScale(t *testing.T) {
	a, clk := onDemandAccount(t)
	s, err := a.CreateStream(bg, CreateStreamInput{StreamName: "p", ShardCount: 4})
	require.NoError(t, err)
	_, throttled := load(t, s, clk, 6*shardUnit, 16, 121, "")
	require.Positive(t, throttled)
	require.Equal(t, 4, openShardsOf(t, s))

	require.NoError(t, s.UpdateStreamMode(bg, OnDemand))
	load(t, s, clk, 3*shardUnit, 16, 61, "")
	require.Equal(t, 4, openShardsOf(t, s), "the first minute after a switch is measured, not judged")
	load(t, s, clk, 3*shardUnit, 16, 60, "")
	require.Equal(t, 8, openShardsOf(t, s))

	require.NoError(t, s.UpdateStreamMode(bg, Provisioned))
	load(t, s, clk, 6*shardUnit, 16, 121, "")
	require.Equal(t, 8, openShardsOf(t, s), "a PROVISIONED stream keeps its shards")
}

// TestOnDemandStopsAtTheShardLimit: scaling splits only as many shards as
// the account has room for.
func TestOnDemandStopsAtTheShardLimit(t *testing.T) {
	a, clk := onDemandAccount(t, WithShardLimit(6))
	s, err := a.CreateStream(bg, CreateStreamInput{StreamName: "od", Mode: OnDemand})
	require.NoError(t, err)
	load(t, s, clk, 3*shardUnit, 16, 61, "")
	require.Equal(t, 6, openShardsOf(t, s))
	load(t, s, clk, 3*shardUnit, 16, 120, "")
	require.Equal(t, 6, openShardsOf(t, s))
}

// TestModeSwitchesTwiceADay: a third switch in a rolling 24 hours is
// refused; a durable account remembers the switches.
func TestModeSwitchesTwiceADay(t *testing.T) {
	clk := NewManualClock(tStart)
	dir := t.TempDir()
	open := func() *Account {
		a, err := NewAccount(WithDir(dir), WithClock(clk))
		require.NoError(t, err)
		return a
	}
	a := open()
	s, err := a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1})
	require.NoError(t, err)
	require.NoError(t, s.UpdateStreamMode(bg, OnDemand))
	require.NoError(t, s.UpdateStreamMode(bg, OnDemand), "the mode it has: no switch")
	clk.Advance(time.Hour)
	require.NoError(t, s.UpdateStreamMode(bg, Provisioned))
	require.NoError(t, a.Close())

	a = open()
	defer a.Close()
	s = mustStream(t, a, "s")
	err = s.UpdateStreamMode(bg, OnDemand)
	requireCode(t, err, ErrLimitExceeded)
	require.ErrorContains(t, err, "Exceeded the limit of 2 UpdateStreamMode operations in a rolling 24-hour period for stream s")
	clk.Advance(23 * time.Hour)
	require.NoError(t, s.UpdateStreamMode(bg, OnDemand), "the first switch is 24 hours old")
}
