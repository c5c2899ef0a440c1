package shardlog_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
)

// metric returns the datapoints of a metric of stream "orders" between
// from and to, narrowed by more dimensions.
func metric(t *testing.T, a *shardlog.Account, name string, from, to time.Time, period time.Duration, more ...shardlog.Dimension) []shardlog.Datapoint {
	t.Helper()
	out, err := a.GetMetricStatistics(ctx, shardlog.MetricStatisticsInput{
		Namespace:  shardlog.MetricsNamespace,
		MetricName: name,
		Dimensions: append([]shardlog.Dimension{{Name: "StreamName", Value: "orders"}}, more...),
		StartTime:  from,
		EndTime:    to,
		Period:     period,
	})
	require.NoError(t, err)
	require.Equal(t, name, out.Label)
	return out.Datapoints
}

// only returns the one datapoint of a metric over the hour from t0's minute.
func only(t *testing.T, a *shardlog.Account, name string, more ...shardlog.Dimension) shardlog.Datapoint {
	t.Helper()
	from := t0.Truncate(time.Minute)
	dps := metric(t, a, name, from, from.Add(time.Hour), time.Hour, more...)
	require.Len(t, dps, 1, name)
	return dps[0]
}

// requireStats checks a datapoint's sum, sample count, minimum and maximum.
func requireStats(t *testing.T, dp shardlog.Datapoint, sum, count, lo, hi float64, name string) {
	t.Helper()
	assert.Equal(t, [4]float64{sum, count, lo, hi}, [4]float64{dp.Sum, dp.SampleCount, dp.Minimum, dp.Maximum}, name+": sum, count, min, max")
	if count > 0 {
		assert.InDelta(t, sum/count, dp.Average, 1e-9, name+": average")
	}
}

// TestMetricsOfWritesAndReads scripts puts, throttled puts, reads and a
// throttled read on the manual clock and checks CloudWatch's stream-level
// metrics: samples per call, as Kinesis counts them.
func TestMetricsOfWritesAndReads(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithLimits(shardlog.Limits{
		WriteBytesPerSecond: 1 << 20, WriteRecordsPerSecond: 2, ReadCallsPerSecond: 1, ReadBytesPerSecond: 2 << 20,
	}))
	s := newStream(t, a, "orders", 1)
	_, err := s.EnableEnhancedMonitoring(ctx, []string{"ALL"})
	require.NoError(t, err)
	rec := shardlog.PutInput{PartitionKey: "key", Data: []byte("abcd")} // 7 bytes

	put(t, s, rec.PartitionKey, "abcd")
	put(t, s, rec.PartitionKey, "abcd")
	_, err = s.Put(ctx, rec)
	require.ErrorIs(t, err, shardlog.ErrProvisionedThroughputExceeded)
	res, err := s.PutBatch(ctx, []shardlog.PutInput{rec, rec, rec})
	require.NoError(t, err)
	require.Equal(t, 3, res.FailedRecordCount)
	clk.Advance(time.Second)
	res, err = s.PutBatch(ctx, []shardlog.PutInput{rec, rec, rec})
	require.NoError(t, err)
	require.Equal(t, 1, res.FailedRecordCount)

	clk.Advance(10 * time.Second) // the newest record is 10 s old when read
	it, err := s.GetShardIterator(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	require.NoError(t, err)
	out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	require.NoError(t, err)
	require.Len(t, out.Records, 4)
	_, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: out.NextShardIterator})
	require.ErrorIs(t, err, shardlog.ErrProvisionedThroughputExceeded)

	// Puts: two PutRecord of 7 bytes, one throttled; PutRecords of 3
	// throttled, then of 2 stored and 1 throttled.
	requireStats(t, only(t, a, "IncomingRecords"), 4, 3, 1, 2, "IncomingRecords")
	requireStats(t, only(t, a, "IncomingBytes"), 28, 3, 7, 14, "IncomingBytes")
	requireStats(t, only(t, a, "PutRecord.Bytes"), 14, 2, 7, 7, "PutRecord.Bytes")
	requireStats(t, only(t, a, "PutRecord.Success"), 2, 3, 0, 1, "PutRecord.Success")
	requireStats(t, only(t, a, "PutRecord.Latency"), 0, 3, 0, 0, "PutRecord.Latency")
	requireStats(t, only(t, a, "WriteProvisionedThroughputExceeded"), 5, 5, 0, 3, "WriteProvisionedThroughputExceeded")
	requireStats(t, only(t, a, "PutRecords.Success"), 1, 2, 0, 1, "PutRecords.Success")
	requireStats(t, only(t, a, "PutRecords.Bytes"), 14, 2, 0, 14, "PutRecords.Bytes")
	requireStats(t, only(t, a, "PutRecords.Records"), 2, 2, 0, 2, "PutRecords.Records")
	requireStats(t, only(t, a, "PutRecords.SuccessfulRecords"), 2, 2, 0, 2, "PutRecords.SuccessfulRecords")
	requireStats(t, only(t, a, "PutRecords.ThrottledRecords"), 4, 2, 1, 3, "PutRecords.ThrottledRecords")
	requireStats(t, only(t, a, "PutRecords.FailedRecords"), 0, 2, 0, 0, "PutRecords.FailedRecords")
	requireStats(t, only(t, a, "PutRecords.TotalRecords"), 6, 2, 3, 3, "PutRecords.TotalRecords")
	requireStats(t, only(t, a, "PutRecords.Latency"), 0, 2, 0, 0, "PutRecords.Latency")
	// Reads: one GetRecords of 4 records, one throttled.
	requireStats(t, only(t, a, "GetRecords.Records"), 4, 1, 4, 4, "GetRecords.Records")
	requireStats(t, only(t, a, "GetRecords.Bytes"), 28, 1, 28, 28, "GetRecords.Bytes")
	requireStats(t, only(t, a, "GetRecords.IteratorAgeMilliseconds"), 10000, 1, 10000, 10000, "GetRecords.IteratorAgeMilliseconds")
	requireStats(t, only(t, a, "GetRecords.Success"), 1, 2, 0, 1, "GetRecords.Success")
	requireStats(t, only(t, a, "GetRecords.Latency"), 0, 1, 0, 0, "GetRecords.Latency")
	dp := only(t, a, "ReadProvisionedThroughputExceeded")
	requireStats(t, dp, 1, 2, 0, 1, "ReadProvisionedThroughputExceeded")
	assert.Equal(t, 0.5, dp.Average, "the share of GetRecords calls throttled")
	assert.Equal(t, "Count", dp.Unit)
	assert.Equal(t, "Bytes", only(t, a, "IncomingBytes").Unit)
	assert.Equal(t, "Milliseconds", only(t, a, "GetRecords.IteratorAgeMilliseconds").Unit)
	assert.Equal(t, t0.Truncate(time.Hour).Add(4*time.Minute), only(t, a, "IncomingBytes").Timestamp, "the period starts at StartTime's minute")

	// The same, shard by shard (a call's share of the shard is a sample).
	shard := shardlog.Dimension{Name: "ShardId", Value: "shardId-000000000000"}
	requireStats(t, only(t, a, "IncomingBytes", shard), 28, 3, 7, 14, "shard IncomingBytes")
	requireStats(t, only(t, a, "IncomingRecords", shard), 4, 3, 1, 2, "shard IncomingRecords")
	requireStats(t, only(t, a, "WriteProvisionedThroughputExceeded", shard), 5, 5, 0, 3, "shard WriteProvisionedThroughputExceeded")
	requireStats(t, only(t, a, "ReadProvisionedThroughputExceeded", shard), 1, 2, 0, 1, "shard ReadProvisionedThroughputExceeded")
	requireStats(t, only(t, a, "OutgoingRecords", shard), 4, 1, 4, 4, "shard OutgoingRecords")
	requireStats(t, only(t, a, "OutgoingBytes", shard), 28, 1, 28, 28, "shard OutgoingBytes")
	requireStats(t, only(t, a, "IteratorAgeMilliseconds", shard), 10000, 1, 10000, 10000, "shard IteratorAgeMilliseconds")
}

// TestMetricsAcrossAReshard: a parent's shard-level metrics stay after it
// closes, its children's start with their first records, and the stream
// level counts every record once.
func TestMetricsAcrossAReshard(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "orders", 1)
	_, err := s.EnableEnhancedMonitoring(ctx, []string{"IncomingRecords"})
	require.NoError(t, err)
	keys := []string{"a", "b", "c", "d", "e", "f"}
	for _, k := range keys {
		put(t, s, k, "before")
	}
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "shardId-000000000000", NewStartingHashKey: "170141183460469231731687303715884105728"})))
	children := map[string]float64{}
	for _, k := range keys {
		children[put(t, s, k, "after").ShardID]++
	}
	require.Len(t, children, 2, "the keys fall on both children")
	byShard := func(id string) float64 {
		dp := only(t, a, "IncomingRecords", shardlog.Dimension{Name: "ShardId", Value: id})
		return dp.Sum
	}
	assert.Equal(t, 6.0, byShard("shardId-000000000000"), "the parent's records")
	for id, n := range children {
		assert.Equal(t, n, byShard(id), id)
	}
	requireStats(t, only(t, a, "IncomingRecords"), 12, 12, 1, 1, "stream IncomingRecords")
}

// TestMetricsBuckets: samples fall in minutes of the account clock; a
// period sums its minutes; minutes without samples have no datapoint;
// minutes older than three hours are dropped while the totals keep them.
func TestMetricsBuckets(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "orders", 2)
	start := t0.Truncate(time.Minute) // 03:04
	clk.Set(start.Add(10 * time.Second))
	put(t, s, "a", "x")
	clk.Set(start.Add(70 * time.Second)) // 03:05
	put(t, s, "b", "x")
	put(t, s, "c", "x")
	clk.Set(start.Add(3*time.Minute + time.Second)) // 03:07, after an idle minute
	put(t, s, "d", "x")

	dps := metric(t, a, "IncomingRecords", start, start.Add(10*time.Minute), time.Minute)
	require.Len(t, dps, 3)
	for i, want := range []struct {
		at  time.Duration
		sum float64
	}{{0, 1}, {time.Minute, 2}, {3 * time.Minute, 1}} {
		assert.Equal(t, start.Add(want.at), dps[i].Timestamp)
		assert.Equal(t, want.sum, dps[i].Sum)
	}
	dps = metric(t, a, "IncomingRecords", start, start.Add(10*time.Minute), 2*time.Minute)
	require.Len(t, dps, 2)
	assert.Equal(t, []float64{3, 1}, []float64{dps[0].Sum, dps[1].Sum})
	assert.Equal(t, start.Add(2*time.Minute), dps[1].Timestamp)
	dps = metric(t, a, "IncomingRecords", start.Add(time.Minute), start.Add(2*time.Minute), time.Minute)
	require.Len(t, dps, 1, "EndTime is exclusive")
	assert.Equal(t, 2.0, dps[0].Sum)

	clk.Set(start.Add(4 * time.Hour))
	put(t, s, "e", "x")
	dps = metric(t, a, "IncomingRecords", start, start.Add(5*time.Hour), time.Hour)
	require.Len(t, dps, 1, "the minutes of four hours ago are gone")
	assert.Equal(t, 1.0, dps[0].Sum)
	totals, err := a.MetricTotals(ctx)
	require.NoError(t, err)
	found := false
	for _, m := range totals {
		if m.MetricName == "IncomingRecords" {
			found = true
			assert.Equal(t, 5.0, m.Sum)
			assert.Equal(t, int64(5), m.SampleCount)
			assert.Equal(t, []shardlog.Dimension{{Name: "StreamName", Value: "orders"}}, m.Dimensions)
		}
	}
	assert.True(t, found, "IncomingRecords in the totals")
}

// TestShardLevelMetrics: shard-level metrics appear only for what enhanced
// monitoring turned on, only from then, and stop when it is turned off.
func TestShardLevelMetrics(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "orders", 2)
	shard0 := shardlog.Dimension{Name: "ShardId", Value: "shardId-000000000000"}
	key0 := "a" // hashes to shard 0 of 2
	require.Equal(t, shard0.Value, put(t, s, key0, "before").ShardID)
	assert.Empty(t, metric(t, a, "IncomingRecords", t0.Add(-time.Hour), t0.Add(time.Hour), time.Hour, shard0), "off by default")

	clk.Advance(time.Minute)
	_, err := s.EnableEnhancedMonitoring(ctx, []string{"IncomingRecords", "OutgoingBytes", "IteratorAgeMilliseconds"})
	require.NoError(t, err)
	put(t, s, key0, "xy")
	res, err := s.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: key0, Data: []byte("1")}, {PartitionKey: key0, Data: []byte("2")}})
	require.NoError(t, err)
	require.Zero(t, res.FailedRecordCount)
	clk.Advance(2 * time.Second)
	it, err := s.GetShardIterator(ctx, shard0.Value, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	require.NoError(t, err)
	out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	require.NoError(t, err)
	require.Len(t, out.Records, 4)

	from := t0.Truncate(time.Minute)
	dps := metric(t, a, "IncomingRecords", from, from.Add(time.Hour), time.Hour, shard0)
	require.Len(t, dps, 1)
	requireStats(t, dps[0], 3, 2, 1, 2, "shard IncomingRecords: one Put, one PutRecords of two")
	dps = metric(t, a, "OutgoingBytes", from, from.Add(time.Hour), time.Hour, shard0)
	require.Len(t, dps, 1)
	assert.Equal(t, float64(len(key0)*4+len("before")+len("xy")+2), dps[0].Sum)
	dps = metric(t, a, "IteratorAgeMilliseconds", from, from.Add(time.Hour), time.Hour, shard0)
	require.Len(t, dps, 1)
	assert.Equal(t, 2000.0, dps[0].Maximum)
	assert.Empty(t, metric(t, a, "IncomingBytes", from, from.Add(time.Hour), time.Hour, shard0), "not turned on")
	assert.Empty(t, metric(t, a, "IncomingRecords", from, from.Add(time.Hour), time.Hour,
		shardlog.Dimension{Name: "ShardId", Value: "shardId-000000000001"}), "no writes there")

	clk.Advance(time.Minute)
	_, err = s.DisableEnhancedMonitoring(ctx, []string{"ALL"})
	require.NoError(t, err)
	put(t, s, key0, "after")
	dps = metric(t, a, "IncomingRecords", from, from.Add(time.Hour), time.Hour, shard0)
	require.Len(t, dps, 1)
	assert.Equal(t, 3.0, dps[0].Sum, "nothing counted once off")
	requireStats(t, only(t, a, "IncomingRecords"), 5, 4, 1, 2, "the stream level counts throughout")
}

// TestFanOutMetrics: SubscribeToShard's outcomes and each event delivered
// count under the consumer's name.
func TestFanOutMetrics(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "orders", 1)
	c, err := s.RegisterStreamConsumer(ctx, "app")
	require.NoError(t, err)
	app := shardlog.Dimension{Name: "ConsumerName", Value: "app"}
	put(t, s, "k", "one")
	put(t, s, "k", "two")
	clk.Advance(3 * time.Second)

	sub, err := a.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardID: "shardId-000000000000", StartingPosition: shardlog.StartingPosition{Type: shardlog.TrimHorizon}})
	require.NoError(t, err)
	ev := <-sub.Events()
	require.Len(t, ev.Records, 2)
	_, err = a.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardID: "shardId-000000000000", StartingPosition: shardlog.StartingPosition{Type: shardlog.Latest}})
	require.ErrorIs(t, err, shardlog.ErrResourceInUse, "again within five seconds")
	put(t, s, "k", "three")
	ev = <-sub.Events()
	require.Len(t, ev.Records, 1)
	require.NoError(t, sub.Close())

	requireStats(t, only(t, a, "SubscribeToShard.Success", app), 1, 2, 0, 1, "SubscribeToShard.Success")
	requireStats(t, only(t, a, "SubscribeToShard.RateExceeded", app), 1, 2, 0, 1, "SubscribeToShard.RateExceeded")
	requireStats(t, only(t, a, "SubscribeToShardEvent.Records", app), 3, 2, 1, 2, "SubscribeToShardEvent.Records")
	requireStats(t, only(t, a, "SubscribeToShardEvent.Bytes", app), 4+4+6, 2, 6, 8, "SubscribeToShardEvent.Bytes")
	requireStats(t, only(t, a, "SubscribeToShardEvent.Success", app), 2, 2, 1, 1, "SubscribeToShardEvent.Success")
	dp := only(t, a, "SubscribeToShardEvent.MillisBehindLatest", app)
	assert.Equal(t, 2.0, dp.SampleCount)
	assert.Empty(t, metric(t, a, "SubscribeToShardEvent.Records", t0.Add(-time.Hour), t0.Add(time.Hour), time.Hour,
		shardlog.Dimension{Name: "ConsumerName", Value: "other"}))
}

// TestMetricsBadInput: a query Kinesis's metrics cannot answer is an
// InvalidArgument; one for a stream that does not exist has no datapoints.
func TestMetricsBadInput(t *testing.T) {
	a, _ := newAccount(t)
	newStream(t, a, "orders", 1)
	good := shardlog.MetricStatisticsInput{
		MetricName: "IncomingBytes",
		Dimensions: []shardlog.Dimension{{Name: "StreamName", Value: "orders"}},
		StartTime:  t0, EndTime: t0.Add(time.Hour), Period: time.Minute,
	}
	_, err := a.GetMetricStatistics(ctx, good)
	require.NoError(t, err)
	for name, change := range map[string]func(*shardlog.MetricStatisticsInput){
		"namespace":        func(in *shardlog.MetricStatisticsInput) { in.Namespace = "AWS/EC2" },
		"unknown metric":   func(in *shardlog.MetricStatisticsInput) { in.MetricName = "IncomingBits" },
		"period zero":      func(in *shardlog.MetricStatisticsInput) { in.Period = 0 },
		"period 90s":       func(in *shardlog.MetricStatisticsInput) { in.Period = 90 * time.Second },
		"end before start": func(in *shardlog.MetricStatisticsInput) { in.EndTime = in.StartTime.Add(-time.Minute) },
		"no stream":        func(in *shardlog.MetricStatisticsInput) { in.Dimensions = nil },
		"bad shard": func(in *shardlog.MetricStatisticsInput) {
			in.Dimensions = append(in.Dimensions, shardlog.Dimension{Name: "ShardId", Value: "x"})
		},
		"stream-only metric by shard": func(in *shardlog.MetricStatisticsInput) {
			in.MetricName = "PutRecord.Success"
			in.Dimensions = append(in.Dimensions, shardlog.Dimension{Name: "ShardId", Value: "shardId-000000000000"})
		},
		"shard-only metric by stream": func(in *shardlog.MetricStatisticsInput) { in.MetricName = "OutgoingBytes" },
		"dimension twice": func(in *shardlog.MetricStatisticsInput) {
			in.Dimensions = append(in.Dimensions, in.Dimensions[0])
		},
		"three dimensions": func(in *shardlog.MetricStatisticsInput) {
			in.Dimensions = append(in.Dimensions, shardlog.Dimension{Name: "ShardId", Value: "shardId-000000000000"},
				shardlog.Dimension{Name: "ConsumerName", Value: "app"})
		},
	} {
		in := good
		in.Dimensions = append([]shardlog.Dimension(nil), good.Dimensions...)
		change(&in)
		_, err := a.GetMetricStatistics(ctx, in)
		require.ErrorIs(t, err, shardlog.ErrInvalidArgument, name)
	}
	in := good
	in.Dimensions = []shardlog.Dimension{{Name: "StreamName", Value: "missing"}}
	out, err := a.GetMetricStatistics(ctx, in)
	require.NoError(t, err)
	assert.Empty(t, out.Datapoints)
}

// TestEnhancedMonitoringSurvivesRestart: a durable stream keeps its
// shard-level metrics on across a restart.
func TestEnhancedMonitoringSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clk := shardlog.NewManualClock(t0)
	open := func() *shardlog.Account {
		a, err := shardlog.NewAccount(shardlog.WithDir(dir), shardlog.WithClock(clk), shardlog.WithoutLimits())
		require.NoError(t, err)
		return a
	}
	a := open()
	s := newStream(t, a, "orders", 1)
	_, err := s.EnableEnhancedMonitoring(ctx, []string{"IncomingRecords"})
	require.NoError(t, err)
	require.NoError(t, a.Close())

	a = open()
	defer a.Close()
	s, err = a.Stream(shardlog.StreamRef{StreamName: "orders"})
	require.NoError(t, err)
	put(t, s, "k", "v")
	dps := metric(t, a, "IncomingRecords", t0.Truncate(time.Minute), t0.Add(time.Hour), time.Hour,
		shardlog.Dimension{Name: "ShardId", Value: "shardId-000000000000"})
	require.Len(t, dps, 1)
	assert.Equal(t, 1.0, dps[0].Sum)
}

// TestMetricsLatency: a call that waits (here for an injected delay on the
// manual clock) reports how long it took.
func TestMetricsLatency(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "orders", 1)
	for _, op := range []string{"PutRecord", "PutRecords"} {
		_, err := a.InjectFault(shardlog.Fault{Operation: op, StreamName: "orders", Delay: 250 * time.Millisecond})
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() {
			if op == "PutRecord" {
				_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("v")})
			} else {
				_, err = s.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: "k", Data: []byte("v")}})
			}
			done <- err
		}()
		require.NoError(t, clk.BlockUntil(ctx, 1))
		clk.Advance(250 * time.Millisecond)
		require.NoError(t, <-done)
	}
	requireStats(t, only(t, a, "PutRecord.Latency"), 250, 1, 250, 250, "PutRecord.Latency")
	requireStats(t, only(t, a, "PutRecords.Latency"), 250, 1, 250, 250, "PutRecords.Latency")
}

// TestMetricsUnderConcurrency: writers, readers and queries at once lose
// no sample: IncomingRecords sums to the records stored.
func TestMetricsUnderConcurrency(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "orders", 4)
	_, err := s.EnableEnhancedMonitoring(ctx, []string{"ALL"})
	require.NoError(t, err)
	const writers, rounds = 4, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				key := fmt.Sprint(w, "-", i)
				if i%2 == 0 {
					_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: key, Data: []byte("v")})
					assert.NoError(t, err)
				} else {
					_, err := s.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: key, Data: []byte("v")}, {PartitionKey: key + "b", Data: []byte("v")}})
					assert.NoError(t, err)
				}
				if i%50 == 0 {
					clk.Advance(20 * time.Second) // minutes roll over under the writers
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 50 {
			_, err := a.GetMetricStatistics(ctx, shardlog.MetricStatisticsInput{
				MetricName: "IncomingRecords", Dimensions: []shardlog.Dimension{{Name: "StreamName", Value: "orders"}},
				StartTime: t0.Add(-time.Hour), EndTime: t0.Add(time.Hour), Period: time.Minute,
			})
			assert.NoError(t, err)
		}
	}()
	wg.Wait()
	total := 0.0
	for _, dp := range metric(t, a, "IncomingRecords", t0.Add(-time.Hour), t0.Add(2*time.Hour), time.Minute) {
		total += dp.Sum
	}
	assert.Equal(t, float64(writers*rounds/2*3), total, "one record per Put, two per PutBatch")
	shardTotal := 0.0
	for i := range 4 {
		for _, dp := range metric(t, a, "IncomingRecords", t0.Add(-time.Hour), t0.Add(2*time.Hour), time.Hour,
			shardlog.Dimension{Name: "ShardId", Value: fmt.Sprintf("shardId-%012d", i)}) {
			shardTotal += dp.Sum
		}
	}
	assert.Equal(t, total, shardTotal, "the shards' records add up to the stream's")
}

// TestMetricTotalsForgetWhatIsGone: the totals of a shard that expired and
// of a consumer that was deregistered leave MetricTotals (their minutes
// stay readable); the others stay.
func TestMetricTotalsForgetWhatIsGone(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "orders", 1)
	_, err := s.EnableEnhancedMonitoring(ctx, []string{"IncomingRecords"})
	require.NoError(t, err)
	c, err := s.RegisterStreamConsumer(ctx, "app")
	require.NoError(t, err)
	put(t, s, "k", "v")
	sub, err := a.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardID: "shardId-000000000000", StartingPosition: shardlog.StartingPosition{Type: shardlog.TrimHorizon}})
	require.NoError(t, err)
	<-sub.Events()
	require.NoError(t, sub.Close())
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "shardId-000000000000", NewStartingHashKey: "170141183460469231731687303715884105728"})))
	put(t, s, "k", "v")

	series := func() map[string]bool {
		totals, err := a.MetricTotals(ctx)
		require.NoError(t, err)
		out := map[string]bool{}
		for _, m := range totals {
			out[fmt.Sprintf("%s %v", m.MetricName, m.Dimensions[1:])] = true
		}
		return out
	}
	before := series()
	require.True(t, before["IncomingRecords [{ShardId shardId-000000000000}]"])
	require.True(t, before["SubscribeToShardEvent.Records [{ConsumerName app}]"])

	require.NoError(t, a.DeregisterStreamConsumer(ctx, shardlog.ConsumerRef{ConsumerARN: c.ConsumerARN}))
	clk.Advance(25 * time.Hour) // past the retention period: the closed parent expires
	require.NoError(t, a.ApplyRetention(ctx))
	_, err = s.RegisterStreamConsumer(ctx, "other") // forgets the deregistered one
	require.NoError(t, err)
	after := series()
	assert.False(t, after["IncomingRecords [{ShardId shardId-000000000000}]"], "the expired shard")
	assert.False(t, after["SubscribeToShardEvent.Records [{ConsumerName app}]"], "the deregistered consumer")
	assert.True(t, after["IncomingRecords []"], "the stream")
	n := 0
	for k := range after {
		if strings.HasPrefix(k, "IncomingRecords [{ShardId ") {
			n++
		}
	}
	assert.Equal(t, 1, n, "the child that was written")
	dps := metric(t, a, "IncomingRecords", t0.Add(-time.Hour), t0.Add(time.Hour), time.Hour,
		shardlog.Dimension{Name: "ShardId", Value: "shardId-000000000000"})
	assert.Len(t, dps, 1, "the expired shard's minutes are still there")
}

// TestMetricsAccess: with access control on, reading metrics takes
// CloudWatch's permission, which Kinesis roles do not grant.
func TestMetricsAccess(t *testing.T) {
	a, _, _ := roleAccount(t)
	require.NoError(t, a.PutPrincipal(userARN("watcher"), `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["cloudwatch:GetMetricStatistics","cloudwatch:GetMetricData"],"Resource":"*"}]}`))
	in := shardlog.MetricStatisticsInput{
		MetricName: "IncomingBytes",
		Dimensions: []shardlog.Dimension{{Name: "StreamName", Value: "s"}},
		StartTime:  t0, EndTime: t0.Add(time.Hour), Period: time.Minute,
	}
	_, err := a.GetMetricStatistics(as("administrator"), in)
	require.ErrorIs(t, err, shardlog.ErrAccessDenied)
	require.ErrorContains(t, err, "is not authorized to perform: cloudwatch:GetMetricStatistics because no identity-based policy allows")
	_, err = a.MetricTotals(as("administrator"))
	require.ErrorIs(t, err, shardlog.ErrAccessDenied)
	_, err = a.GetMetricStatistics(as("watcher"), in)
	require.NoError(t, err)
	_, err = a.MetricTotals(as("watcher"))
	require.NoError(t, err)
	_, err = a.GetMetricStatistics(ctx, in)
	require.NoError(t, err, "the Go API without a caller is the account's owner")
}

// TestExpiredIteratorCounts: a GetRecords refused for an expired iterator
// is a failed GetRecords of its stream, through the stream and through the
// account alike.
func TestExpiredIteratorCounts(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "orders", 1)
	it, err := s.GetShardIterator(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	require.NoError(t, err)
	clk.Advance(6 * time.Minute)
	_, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	require.ErrorIs(t, err, shardlog.ErrExpiredIterator)
	_, err = a.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	require.ErrorIs(t, err, shardlog.ErrExpiredIterator)
	requireStats(t, only(t, a, "GetRecords.Success"), 0, 2, 0, 0, "GetRecords.Success")
	requireStats(t, only(t, a, "ReadProvisionedThroughputExceeded"), 0, 2, 0, 0, "ReadProvisionedThroughputExceeded")
}
