package producer_test

import (
	"cmp"
	"context"
	"crypto/md5"
	"fmt"
	"math/big"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/producer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	ctx = context.Background()
	t0  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

// setup returns a stream of n shards in an account on a manual clock.
func setup(t *testing.T, n int, opts ...shardlog.Option) (*shardlog.Account, *shardlog.Stream, *shardlog.ManualClock) {
	t.Helper()
	clk := shardlog.NewManualClock(t0)
	a, err := shardlog.NewAccount(append([]shardlog.Option{shardlog.WithClock(clk), shardlog.WithoutLimits()}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	s, err := a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: n})
	require.NoError(t, err)
	return a, s, clk
}

func newProducer(t *testing.T, s shardlog.StreamAPI, cfg producer.Config) *producer.Producer {
	t.Helper()
	p, err := producer.New(s, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close(ctx) })
	return p
}

// settle runs f (a Flush or a Close) and moves the clock whenever a timer
// waits (a linger, a backoff), until f returns its error.
func settle(t *testing.T, clk *shardlog.ManualClock, f func() error) error {
	t.Helper()
	waiting, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		err := f()
		stop()
		done <- err
	}()
	for clk.BlockUntil(waiting, 1) == nil {
		clk.Advance(50 * time.Millisecond)
	}
	return <-done
}

// stored reads the stream: each user record by "key/data", with where it
// was stored, deaggregated.
type storedAt struct {
	shard string
	seq   shardlog.SequenceNumber
	sub   int64
	count int
}

func stored(t *testing.T, s *shardlog.Stream) (map[string]*storedAt, []shardlog.UserRecord) {
	t.Helper()
	out := map[string]*storedAt{}
	var all []shardlog.UserRecord
	for rec, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err)
		for _, u := range shardlog.Deaggregate(nil, rec) {
			k := u.PartitionKey + "/" + string(u.Data)
			if at := out[k]; at != nil {
				at.count++
				continue
			}
			out[k] = &storedAt{shard: u.ShardID, seq: u.SequenceNumber, sub: u.SubSequenceNumber, count: 1}
			all = append(all, u)
		}
	}
	return out, all
}

// putMany puts n records over keys keys and returns their Results, by
// "key/data".
func putMany(t *testing.T, p *producer.Producer, n, keys int) map[string]*producer.Result {
	t.Helper()
	out := make(map[string]*producer.Result, n)
	for i := range n {
		key := fmt.Sprintf("key-%d", i%keys)
		data := fmt.Sprintf("%d", i)
		r, err := p.Put(ctx, key, []byte(data))
		require.NoError(t, err)
		out[key+"/"+data] = r
	}
	return out
}

// requireStoredOnce checks that every Result succeeded and names where its
// record is, and that the stream holds each record once.
func requireStoredOnce(t *testing.T, s *shardlog.Stream, results map[string]*producer.Result) {
	t.Helper()
	at, _ := stored(t, s)
	require.Len(t, at, len(results))
	for k, r := range results {
		select {
		case <-r.Done():
		default:
			t.Fatalf("%s: not done", k)
		}
		require.NoError(t, r.Err, k)
		got := at[k]
		require.NotNil(t, got, k)
		require.Equal(t, 1, got.count, "%s stored more than once", k)
		require.Equal(t, got.shard, r.ShardID, k)
		require.Equal(t, got.seq, r.SequenceNumber, k)
		require.Equal(t, got.sub, r.SubSequenceNumber, k)
		require.GreaterOrEqual(t, r.Attempts, 1, k)
	}
}

// TestPutsEveryRecord: every record put is stored once and its Result says
// where, in batches of several records.
func TestPutsEveryRecord(t *testing.T) {
	_, s, clk := setup(t, 4)
	calls := &counting{StreamAPI: s}
	p := newProducer(t, calls, producer.Config{Clock: clk, MaxBatchRecords: 100})
	results := putMany(t, p, 2000, 97)
	require.NoError(t, settle(t, clk, func() error { return p.Flush(ctx) }))
	requireStoredOnce(t, s, results)
	assert.LessOrEqual(t, calls.batches(), 2000/100+4+4, "batched, per shard")
}

// TestAggregates: with Aggregation, records of a shard share Kinesis
// records in the KPL's format; consumers that deaggregate get each back
// with the sub-sequence number its Result names.
func TestAggregates(t *testing.T) {
	_, s, clk := setup(t, 3)
	p := newProducer(t, s, producer.Config{Clock: clk, Aggregation: true, AggregationMaxSize: 4096})
	results := putMany(t, p, 3000, 50)
	require.NoError(t, settle(t, clk, func() error { return p.Flush(ctx) }))
	requireStoredOnce(t, s, results)
	kinesisRecords := 0
	for _, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err)
		kinesisRecords++
	}
	assert.Less(t, kinesisRecords, 3000/20, "aggregated")
	_, users := stored(t, s)
	for _, u := range users {
		requireOnItsShard(t, s, u)
	}
}

// requireOnItsShard checks that a user record lies on a shard whose hash
// range holds its key's hash, as a consumer that deaggregates requires.
func requireOnItsShard(t *testing.T, s *shardlog.Stream, u shardlog.UserRecord) {
	t.Helper()
	shards, err := s.ListShards(ctx, shardlog.ListShardsInput{})
	require.NoError(t, err)
	for _, sh := range shards.Shards {
		if sh.ShardID == u.ShardID {
			lo, hi := new(big.Int), new(big.Int)
			lo.SetString(sh.HashKeyRange.StartingHashKey, 10)
			hi.SetString(sh.HashKeyRange.EndingHashKey, 10)
			sum := md5.Sum([]byte(u.PartitionKey))
			h := new(big.Int).SetBytes(sum[:])
			require.True(t, h.Cmp(lo) >= 0 && h.Cmp(hi) <= 0, "%s/%s on %s", u.PartitionKey, u.Data, u.ShardID)
			return
		}
	}
	t.Fatalf("no shard %s", u.ShardID)
}

// TestAggregatesForConsumerGroups: a consumer group that deaggregates
// processes each user record once.
func TestAggregatesForConsumerGroups(t *testing.T) {
	_, s, clk := setup(t, 2)
	p := newProducer(t, s, producer.Config{Clock: clk, Aggregation: true})
	results := putMany(t, p, 500, 13)
	require.NoError(t, settle(t, clk, func() error { return p.Flush(ctx) }))
	seen := make(chan string, 1000)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- shardlog.RunWorker(wctx, s, shardlog.WorkerConfig{Application: "app", Deaggregate: true,
			NewProcessor: shardlog.ProcessFunc(func(_ context.Context, in shardlog.ProcessRecordsInput) error {
				for _, u := range in.UserRecords {
					seen <- u.PartitionKey + "/" + string(u.Data)
				}
				return nil
			})})
	}()
	got := map[string]int{}
	for deadline := time.Now().Add(20 * time.Second); len(got) < len(results); {
		require.True(t, time.Now().Before(deadline), "%d of %d", len(got), len(results))
		select {
		case k := <-seen:
			got[k]++
		default:
			clk.Advance(time.Second)
			runtime.Gosched()
		}
	}
	stop()
	require.NoError(t, <-done)
	for k := range results {
		require.Equal(t, 1, got[k], k)
	}
}

// TestLingers: a lone record waits MaxBufferedTime for company, on the
// producer's clock.
func TestLingers(t *testing.T) {
	_, s, clk := setup(t, 1)
	calls := &counting{StreamAPI: s, each: make(chan int, 10)}
	p := newProducer(t, calls, producer.Config{Clock: clk, MaxBufferedTime: time.Second})
	r, err := p.Put(ctx, "k", []byte("x"))
	require.NoError(t, err)
	require.NoError(t, clk.BlockUntil(ctx, 1)) // the linger timer, armed instead of a call
	select {
	case n := <-calls.each:
		t.Fatalf("a call of %d records before the linger time", n)
	default:
	}
	clk.Advance(time.Second)
	require.Equal(t, 1, <-calls.each)
	require.NoError(t, r.Wait(ctx))
}

// TestRetriesFailures: records that PutRecords fails (throttled, internal
// failures) are retried with backoff until stored; none is stored twice.
func TestRetriesFailures(t *testing.T) {
	a, s, clk := setup(t, 2)
	_, err := a.InjectFault(shardlog.Fault{Operation: "PutRecords", Records: []int{0, 3, 7}, Times: 5,
		Err: &shardlog.Error{Code: "ProvisionedThroughputExceededException", Message: "Rate exceeded"}})
	require.NoError(t, err)
	_, err = a.InjectFault(shardlog.Fault{Operation: "PutRecords", Records: []int{1}, Times: 3})
	require.NoError(t, err)
	_, err = a.InjectFault(shardlog.Fault{Operation: "PutRecords", Times: 2, Err: &shardlog.Error{Code: "InternalFailure", Message: "x", Retryable: true}})
	require.NoError(t, err)
	p := newProducer(t, s, producer.Config{Clock: clk, MaxBatchRecords: 20, RecordTTL: time.Hour})
	results := putMany(t, p, 400, 31)
	require.NoError(t, settle(t, clk, func() error { return p.Flush(ctx) }))
	requireStoredOnce(t, s, results)
	retried := 0
	for _, r := range results {
		if r.Attempts > 1 {
			retried++
		}
	}
	assert.Positive(t, retried)
}

// TestRecordTTL: a record that keeps failing fails its Result once its
// RecordTTL has passed, with the last error.
func TestRecordTTL(t *testing.T) {
	a, s, clk := setup(t, 1)
	_, err := a.InjectFault(shardlog.Fault{Operation: "PutRecords", Records: []int{0}, Times: -1})
	require.NoError(t, err)
	p := newProducer(t, s, producer.Config{Clock: clk, RecordTTL: 3 * time.Second})
	r, err := p.Put(ctx, "k", []byte("doomed"))
	require.NoError(t, err)
	require.NoError(t, settle(t, clk, func() error { return p.Flush(ctx) }))
	require.ErrorIs(t, r.Err, producer.ErrExpired)
	var e *shardlog.Error
	require.ErrorAs(t, r.Err, &e)
	assert.Equal(t, "InternalFailure", e.Code)
	assert.Greater(t, r.Attempts, 1)

	totals, err := p.MetricTotals(ctx)
	require.NoError(t, err)
	sums := map[string]float64{}
	for _, m := range totals {
		require.Equal(t, shardlog.Dimension{Name: "StreamName", Value: "s"}, m.Dimensions[0], m.MetricName)
		sums[m.MetricName] += m.Sum
	}
	assert.Equal(t, 1.0, sums["UserRecordExpired"])
	assert.Equal(t, float64(r.Attempts), sums["ErrorsByCode"], "every attempt failed")
	assert.Equal(t, sums["AllErrors"], sums["ErrorsByCode"])
	assert.Equal(t, float64(r.Attempts-1), sums["RetriesPerRecord"])
	assert.Equal(t, 0.0, sums["UserRecordsPut"], "a sample of 0 for a record that failed")
	assert.Equal(t, 1.0, sums["UserRecordsReceived"])
}

// TestFailsWhatRetryingCannotMend: a stream that is gone fails records at
// once, with ResourceNotFound.
func TestFailsWhatRetryingCannotMend(t *testing.T) {
	a, s, clk := setup(t, 1)
	p := newProducer(t, s, producer.Config{Clock: clk})
	require.NoError(t, a.DeleteStream(ctx, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "s"}}))
	r, err := p.Put(ctx, "k", []byte("x"))
	require.NoError(t, err)
	require.NoError(t, settle(t, clk, func() error { return p.Flush(ctx) }))
	require.ErrorIs(t, r.Err, shardlog.ErrResourceNotFound)
	assert.Equal(t, 1, r.Attempts)
}

// TestReshardWhileProducing: splits and merges while aggregated records
// flow: every record is stored, its Result names where, and each user
// record lies on a shard whose range holds its hash.
func TestReshardWhileProducing(t *testing.T) {
	_, s, clk := setup(t, 2)
	p := newProducer(t, s, producer.Config{Clock: clk, Aggregation: true, AggregationMaxSize: 2048, MaxBatchRecords: 10, RecordTTL: time.Hour})
	results := map[string]*producer.Result{}
	for round := range 6 {
		for k, r := range putMany(t, p, 300, 40) {
			results[fmt.Sprint(round)+k] = r
		}
		require.NoError(t, settle(t, clk, func() error { return p.Flush(ctx) }))
		shards, err := s.ListShards(ctx, shardlog.ListShardsInput{ShardFilter: shardlog.ShardFilter{Type: shardlog.FilterAtLatest}})
		require.NoError(t, err)
		open := shards.Shards
		slices.SortFunc(open, func(a, b shardlog.Shard) int {
			return cmp.Compare(len(a.HashKeyRange.StartingHashKey), len(b.HashKeyRange.StartingHashKey))*2 + strings.Compare(a.HashKeyRange.StartingHashKey, b.HashKeyRange.StartingHashKey)
		})
		if round%2 == 0 {
			sh := open[0]
			_, err = s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: sh.ShardID, NewStartingHashKey: sh.HashKeyRange.Midpoint()})
		} else {
			_, err = s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: open[0].ShardID, AdjacentShardToMerge: open[1].ShardID})
		}
		require.NoError(t, err)
	}
	for k, r := range results {
		require.NoError(t, r.Err, k)
		require.NotEmpty(t, r.ShardID, k)
	}
	_, users := stored(t, s)
	for _, u := range users {
		requireOnItsShard(t, s, u)
	}
}

// TestBackpressure: the buffer is bounded: Put fails with ErrBufferFull,
// or waits for room until its context ends.
func TestBackpressure(t *testing.T) {
	_, s, clk := setup(t, 1)
	p := newProducer(t, s, producer.Config{Clock: clk, MaxBufferedRecords: 10, FailWhenFull: true, MaxBufferedTime: time.Hour})
	for i := range 10 {
		_, err := p.Put(ctx, "k", []byte{byte(i)})
		require.NoError(t, err)
	}
	_, err := p.Put(ctx, "k", []byte("one too many"))
	require.ErrorIs(t, err, producer.ErrBufferFull)

	q := newProducer(t, s, producer.Config{Clock: clk, MaxBufferedBytes: 100, MaxBufferedTime: time.Hour})
	_, err = q.Put(ctx, "k", make([]byte, 90))
	require.NoError(t, err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = q.Put(cctx, "k", make([]byte, 20))
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, settle(t, clk, func() error { return q.Flush(ctx) }))
	_, err = q.Put(ctx, "k", make([]byte, 20))
	require.NoError(t, err, "room once the first was stored")
}

// TestOrderPerKey: with OrderPerKey, failures and retries never reorder a
// partition key's records.
func TestOrderPerKey(t *testing.T) {
	a, s, clk := setup(t, 2)
	_, err := a.InjectFault(shardlog.Fault{Operation: "PutRecords", Records: []int{0, 2, 5}, Times: 20})
	require.NoError(t, err)
	p := newProducer(t, s, producer.Config{Clock: clk, OrderPerKey: true, MaxBatchRecords: 8, RecordTTL: time.Hour})
	results := putMany(t, p, 300, 6)
	require.NoError(t, settle(t, clk, func() error { return p.Flush(ctx) }))
	requireStoredOnce(t, s, results)
	last := map[string]int{}
	_, users := stored(t, s)
	for _, u := range users {
		var n int
		_, err := fmt.Sscan(string(u.Data), &n)
		require.NoError(t, err)
		if prev, ok := last[u.PartitionKey]; ok {
			require.Greater(t, n, prev, "key %s out of order", u.PartitionKey)
		}
		last[u.PartitionKey] = n
	}
}

// TestBadInput: what Kinesis would refuse fails at Put, with its error.
func TestBadInput(t *testing.T) {
	_, s, clk := setup(t, 1)
	p := newProducer(t, s, producer.Config{Clock: clk})
	for name, tc := range map[string]struct {
		rec  producer.Record
		want error
	}{
		"empty key":      {producer.Record{Data: []byte("x")}, shardlog.ErrValidation},
		"long key":       {producer.Record{PartitionKey: strings.Repeat("k", 257)}, shardlog.ErrValidation},
		"long in UTF-16": {producer.Record{PartitionKey: strings.Repeat("😀", 129)}, shardlog.ErrValidation}, // 258 code units
		"large record":   {producer.Record{PartitionKey: "k", Data: make([]byte, 1<<20)}, shardlog.ErrValidation},
		"bad hash key":   {producer.Record{PartitionKey: "k", ExplicitHashKey: "2x"}, shardlog.ErrInvalidArgument},
		"hash key 2^128": {producer.Record{PartitionKey: "k", ExplicitHashKey: "340282366920938463463374607431768211456"}, shardlog.ErrInvalidArgument},
	} {
		_, err := p.PutRecord(ctx, tc.rec)
		require.ErrorIs(t, err, tc.want, name)
	}
	for name, cfg := range map[string]producer.Config{
		"batch records": {MaxBatchRecords: 501},
		"batch bytes":   {MaxBatchBytes: 6 << 20},
		"aggregate":     {AggregationMaxSize: 2 << 20},
		"linger":        {MaxBufferedTime: -1},
	} {
		_, err := producer.New(s, cfg)
		require.ErrorIs(t, err, producer.ErrInvalidConfig, name)
	}
	_, err := p.PutRecord(ctx, producer.Record{PartitionKey: strings.Repeat("😀", 128), Data: []byte("x")}) // 256 code units
	require.NoError(t, err)
	require.NoError(t, settle(t, clk, func() error { return p.Close(ctx) }))
	_, err = p.Put(ctx, "k", []byte("x"))
	require.ErrorIs(t, err, producer.ErrClosed)
}

// TestExplicitHashKeys: a record with an explicit hash key goes to the
// shard that owns it.
func TestExplicitHashKeys(t *testing.T) {
	_, s, clk := setup(t, 2)
	p := newProducer(t, s, producer.Config{Clock: clk, Aggregation: true})
	lo, err := p.PutRecord(ctx, producer.Record{PartitionKey: "k", ExplicitHashKey: "1", Data: []byte("lo")})
	require.NoError(t, err)
	hi, err := p.PutRecord(ctx, producer.Record{PartitionKey: "k", ExplicitHashKey: "340282366920938463463374607431768211455", Data: []byte("hi")})
	require.NoError(t, err)
	require.NoError(t, settle(t, clk, func() error { return p.Flush(ctx) }))
	assert.Equal(t, "shardId-000000000000", lo.ShardID)
	assert.Equal(t, "shardId-000000000001", hi.ShardID)
}

// TestCloseDrains: Close sends what is buffered and waits; one that runs
// out of time fails the rest with its context's error; no goroutine is
// left either way (goleak).
func TestCloseDrains(t *testing.T) {
	_, s, clk := setup(t, 2)
	p, err := producer.New(s, producer.Config{Clock: clk, MaxBufferedTime: time.Hour})
	require.NoError(t, err)
	results := putMany(t, p, 50, 5)
	require.NoError(t, settle(t, clk, func() error { return p.Close(ctx) }))
	requireStoredOnce(t, s, results)

	a, s2, clk2 := setup(t, 1)
	_, err = a.InjectFault(shardlog.Fault{Operation: "PutRecords", Times: -1, Delay: time.Hour})
	require.NoError(t, err)
	q, err := producer.New(s2, producer.Config{Clock: clk2})
	require.NoError(t, err)
	r, err := q.Put(ctx, "k", []byte("x"))
	require.NoError(t, err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, q.Close(cctx), context.Canceled)
	require.ErrorIs(t, r.Wait(ctx), context.Canceled)
}

// TestConcurrentPuts: many goroutines put at once (meant for -race).
func TestConcurrentPuts(t *testing.T) {
	_, s, clk := setup(t, 4)
	p := newProducer(t, s, producer.Config{Clock: clk, Aggregation: true})
	var mu sync.Mutex
	results := map[string]*producer.Result{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				key, data := fmt.Sprintf("g%d-%d", g, i%7), fmt.Sprintf("%d-%d", g, i)
				r, err := p.Put(ctx, key, []byte(data))
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				results[key+"/"+data] = r
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.NoError(t, settle(t, clk, func() error { return p.Flush(ctx) }))
	requireStoredOnce(t, s, results)
}

// counting is a StreamAPI that counts PutRecords calls, and reports each
// call's size on each if set.
type counting struct {
	shardlog.StreamAPI
	mu   sync.Mutex
	n    int
	each chan int
}

func (c *counting) PutBatch(ctx context.Context, in []shardlog.PutInput) (shardlog.PutBatchOutput, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	if c.each != nil {
		c.each <- len(in)
	}
	return c.StreamAPI.PutBatch(ctx, in)
}

func (c *counting) batches() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
