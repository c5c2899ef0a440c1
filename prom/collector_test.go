package prom

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/agent"
	"github.com/shardlog/shardlog/autoscale"
	"github.com/shardlog/shardlog/firehose"
	"github.com/shardlog/shardlog/producer"
)

// firstOnly processes a shard's first batch, checkpoints at its first
// record, and says so.
type firstOnly struct{ done chan struct{} }

func (p *firstOnly) Initialize(context.Context, shardlog.InitializeInput) error { return nil }
func (p *firstOnly) ProcessRecords(ctx context.Context, in shardlog.ProcessRecordsInput) error {
	if len(in.Records) == 0 {
		return nil
	}
	if err := in.Checkpointer.CheckpointAt(ctx, in.Records[0].SequenceNumber); err != nil {
		panic(err)
	}
	select {
	case p.done <- struct{}{}:
	default:
	}
	return nil
}
func (p *firstOnly) LeaseLost(context.Context, shardlog.LeaseLostInput)         {}
func (p *firstOnly) ShardEnded(context.Context, shardlog.ShardEndedInput) error { return nil }
func (p *firstOnly) ShutdownRequested(context.Context, shardlog.ShutdownRequestedInput) error {
	return nil
}

// scrape GETs the metrics of a registry holding c, and parses them with
// Prometheus's own text parser.
func scrape(t *testing.T, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return families
}

// find returns the metric of family name whose labels are labels.
func find(t *testing.T, families map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	f := families[name]
	require.NotNil(t, f, name)
	for _, m := range f.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		if assert.ObjectsAreEqual(labels, got) {
			return m
		}
	}
	t.Fatalf("%s has no series %v", name, labels)
	return nil
}

// TestCollector: after puts, reads, enhanced monitoring and a consumer
// group's checkpoint, the collector reports the Kinesis metrics as
// summaries and the group's lag as gauges, in a text Prometheus's parser
// reads.
func TestCollector(t *testing.T) {
	ctx := context.Background()
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits())
	require.NoError(t, err)
	defer acct.Close()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 1})
	require.NoError(t, err)
	_, err = s.EnableEnhancedMonitoring(ctx, []string{"IncomingBytes"})
	require.NoError(t, err)
	for _, data := range []string{"one", "two", "three"} {
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte(data)})
		require.NoError(t, err)
	}
	_, err = s.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: "k", Data: []byte("four")}})
	require.NoError(t, err)
	it, err := s.GetShardIterator(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	require.NoError(t, err)
	_, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	require.NoError(t, err)

	wctx, stop := context.WithCancel(ctx)
	processed := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- shardlog.RunWorker(wctx, s, shardlog.WorkerConfig{
			Application:  "billing",
			NewProcessor: func(string) shardlog.RecordProcessor { return &firstOnly{done: processed} },
		})
	}()
	select {
	case <-processed:
	case <-time.After(time.Minute):
		t.Fatal("the group processed nothing")
	}
	stop()
	require.NoError(t, <-done)

	families := scrape(t, NewCollector(acct))
	stream := map[string]string{"stream": "orders"}
	m := find(t, families, "shardlog_incoming_records", stream)
	assert.Equal(t, dto.MetricType_SUMMARY, families["shardlog_incoming_records"].GetType())
	assert.Equal(t, 4.0, m.GetSummary().GetSampleSum(), "records put")
	assert.Equal(t, uint64(4), m.GetSummary().GetSampleCount(), "put calls")
	m = find(t, families, "shardlog_put_records_total_records", stream)
	assert.Equal(t, 1.0, m.GetSummary().GetSampleSum())
	m = find(t, families, "shardlog_shard_incoming_bytes", map[string]string{"stream": "orders", "shard": "shardId-000000000000"})
	assert.Equal(t, float64(4*len("k")+len("onetwothreefour")), m.GetSummary().GetSampleSum())
	m = find(t, families, "shardlog_get_records_success", stream)
	assert.Equal(t, 1.0, m.GetSummary().GetSampleSum())
	assert.NotContains(t, families, "shardlog_shard_outgoing_bytes", "not turned on")

	group := map[string]string{"stream": "orders", "group": "billing", "shard": "shardId-000000000000"}
	assert.Equal(t, 3.0, find(t, families, "shardlog_group_records_behind", group).GetGauge().GetValue())
	assert.Equal(t, dto.MetricType_GAUGE, families["shardlog_group_behind_seconds"].GetType())

	// Milliseconds are seconds, named so; each series has its last
	// minute's maximum beside it.
	assert.NotContains(t, families, "shardlog_get_records_iterator_age_milliseconds")
	age := find(t, families, "shardlog_get_records_iterator_age_seconds", stream)
	assert.Equal(t, uint64(1), age.GetSummary().GetSampleCount())
	max := find(t, families, "shardlog_get_records_iterator_age_seconds_max", stream)
	assert.Equal(t, dto.MetricType_GAUGE, families["shardlog_get_records_iterator_age_seconds_max"].GetType())
	assert.Equal(t, age.GetSummary().GetSampleSum(), max.GetGauge().GetValue(), "one sample: its sum is its maximum")
	assert.Equal(t, 1.0, find(t, families, "shardlog_put_records_total_records_max", stream).GetGauge().GetValue())
}

// TestMetricsPassPromlint: what /metrics serves passes the checks of
// promtool check metrics (the linter it runs): base units, their names,
// help text.
func TestMetricsPassPromlint(t *testing.T) {
	ctx := context.Background()
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits())
	require.NoError(t, err)
	defer acct.Close()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 1})
	require.NoError(t, err)
	_, err = s.EnableEnhancedMonitoring(ctx, []string{"ALL"})
	require.NoError(t, err)
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})
	require.NoError(t, err)
	it, err := s.GetShardIterator(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	require.NoError(t, err)
	_, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(acct))
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	for _, p := range problems {
		if strings.Contains(p.Text, "counter metrics should have \"_total\" suffix") {
			continue // the Kinesis metrics are summaries; the linter guesses from their names
		}
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// TestCollectorOfAClosedAccount: a scrape of a closed account fails
// rather than reporting nothing.
func TestCollectorOfAClosedAccount(t *testing.T) {
	acct, err := shardlog.NewAccount()
	require.NoError(t, err)
	require.NoError(t, acct.Close())
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(acct))
	_, err = reg.Gather()
	require.ErrorIs(t, err, shardlog.ErrClosed)
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"IncomingBytes":                            "incoming_bytes",
		"PutRecords.ThrottledRecords":              "put_records_throttled_records",
		"GetRecords.IteratorAgeMilliseconds":       "get_records_iterator_age_milliseconds",
		"SubscribeToShardEvent.MillisBehindLatest": "subscribe_to_shard_event_millis_behind_latest",
	} {
		assert.Equal(t, want, snake(in))
	}
}

// TestCollectorReportsStorageDamage: damage a durable account found when
// opening shows in the gauges.
func TestCollectorReportsStorageDamage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func() *shardlog.Account {
		acct, err := shardlog.NewAccount(shardlog.WithoutLimits(), shardlog.WithDir(dir), shardlog.WithSegmentSize(64<<10))
		require.NoError(t, err)
		return acct
	}
	acct := open()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 1})
	require.NoError(t, err)
	for range 600 {
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: make([]byte, 500)})
		require.NoError(t, err)
	}
	families := scrape(t, NewCollector(acct))
	assert.Equal(t, 0.0, find(t, families, "shardlog_storage_damage", map[string]string{}).GetGauge().GetValue())
	require.NoError(t, acct.Close())
	// A file of 64 KiB, after files of 2 to 32 KiB.
	files, err := filepath.Glob(filepath.Join(dir, "streams", "*", "0-0000000005.seg"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	require.NoError(t, os.Remove(files[0]))

	acct = open()
	defer acct.Close()
	families = scrape(t, NewCollector(acct))
	assert.Equal(t, 1.0, find(t, families, "shardlog_storage_damage", map[string]string{}).GetGauge().GetValue())
	assert.Greater(t, find(t, families, "shardlog_storage_damaged_records", map[string]string{}).GetGauge().GetValue(), 50.0)
	assert.Equal(t, 0.0, find(t, families, "shardlog_storage_torn_tails", map[string]string{}).GetGauge().GetValue())
}

// TestProducerCollector: a producer's KPL metrics are exported as the
// account's are, named shardlog_producer_…, and pass promlint.
func TestProducerCollector(t *testing.T) {
	ctx := context.Background()
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits())
	require.NoError(t, err)
	defer acct.Close()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 2})
	require.NoError(t, err)
	_, err = acct.InjectFault(shardlog.Fault{Operation: "PutRecords", Records: []int{0}, Times: 1})
	require.NoError(t, err)
	p, err := producer.New(s, producer.Config{Aggregation: true})
	require.NoError(t, err)
	for i := range 20 {
		_, err := p.Put(ctx, fmt.Sprint("k", i), []byte("data"))
		require.NoError(t, err)
	}
	require.NoError(t, p.Close(ctx))

	families := scrape(t, NewProducerCollector(p))
	stream := map[string]string{"stream": "orders"}
	put := find(t, families, "shardlog_producer_user_records_put", stream).GetSummary()
	assert.Equal(t, 20.0, put.GetSampleSum())
	assert.Equal(t, 1.0, find(t, families, "shardlog_producer_errors_by_code", map[string]string{"stream": "orders", "error_code": "InternalFailure"}).GetSummary().GetSampleSum())
	assert.Contains(t, families, "shardlog_producer_buffering_time_seconds")
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewProducerCollector(p))
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	for _, pr := range problems {
		if strings.Contains(pr.Text, "counter metrics should have \"_total\" suffix") {
			continue // summaries, as the account's
		}
		t.Errorf("%s: %s", pr.Metric, pr.Text)
	}
}

// TestCollectorReportsShardLoad: each open shard's utilization and its
// busiest key's share of the last full minute.
func TestCollectorReportsShardLoad(t *testing.T) {
	ctx := context.Background()
	clk := shardlog.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk))
	require.NoError(t, err)
	defer acct.Close()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 1})
	require.NoError(t, err)
	for i := range 400 {
		key := "hot"
		if i%4 == 3 {
			key = fmt.Sprint("cold-", i)
		}
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: key, Data: make([]byte, 100)})
		require.NoError(t, err)
	}
	clk.Advance(time.Minute)

	families := scrape(t, NewCollector(acct))
	shard := map[string]string{"stream": "orders", "shard": "shardId-000000000000"}
	assert.InDelta(t, 400.0/60000, find(t, families, "shardlog_shard_write_utilization", shard).GetGauge().GetValue(), 1e-9, "records are the larger share")
	assert.Equal(t, 0.0, find(t, families, "shardlog_shard_read_utilization", shard).GetGauge().GetValue())
	assert.InDelta(t, 0.75, find(t, families, "shardlog_shard_hottest_key_share", shard).GetGauge().GetValue(), 0.2, "estimated from a sample")
}

// TestAutoscalerCollector: an autoscaler's looks and decisions, by action.
func TestAutoscalerCollector(t *testing.T) {
	ctx := context.Background()
	clk := shardlog.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	acct, err := shardlog.NewAccount(shardlog.WithClock(clk), shardlog.WithLimits(shardlog.Limits{WriteRecordsPerSecond: 10}))
	require.NoError(t, err)
	defer acct.Close()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 1})
	require.NoError(t, err)
	as, err := autoscale.New(s, autoscale.Config{Clock: clk, Sustain: 1, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	for range 60 * 9 { // 9 records a second: 90%
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})
		require.NoError(t, err)
		clk.Advance(time.Second / 9)
	}
	clk.Set(time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC)) // the minute is over
	_, err = as.Look(ctx)
	require.NoError(t, err)

	families := scrape(t, NewAutoscalerCollector(as))
	assert.Equal(t, 1.0, find(t, families, "shardlog_autoscaler_looks_total", map[string]string{"stream": "orders"}).GetCounter().GetValue())
	assert.Equal(t, 1.0, find(t, families, "shardlog_autoscaler_decisions_total", map[string]string{"stream": "orders", "action": "split"}).GetCounter().GetValue())
	assert.Equal(t, 0.0, find(t, families, "shardlog_autoscaler_decisions_total", map[string]string{"stream": "orders", "action": "merge"}).GetCounter().GetValue())
}

// TestAgentCollector: an agent's counts and each file's lag, passing
// promlint.
func TestAgentCollector(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits())
	require.NoError(t, err)
	defer acct.Close()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "logs", ShardCount: 1})
	require.NoError(t, err)
	log := filepath.Join(dir, "app.log")
	require.NoError(t, os.WriteFile(log, []byte("one\ntwo\n"), 0o644))
	cfg, err := agent.ParseConfig(fmt.Appendf(nil, `{"checkpointFile": %q, "flows": [{"filePattern": %q, "kinesisStream": "logs",
	  "initialPosition": "START_OF_FILE", "maxBufferAgeMillis": 1000}]}`, filepath.Join(dir, "checkpoints"), log))
	require.NoError(t, err)
	a, err := agent.New(ctx, cfg, func(context.Context, string) (shardlog.StreamAPI, error) { return s, nil },
		agent.Options{Logger: slog.New(slog.DiscardHandler), RateLimit: -1})
	require.NoError(t, err)
	defer a.Close(ctx)
	require.NoError(t, a.Poll(ctx))
	require.NoError(t, a.Flush(ctx))
	require.NoError(t, a.Poll(ctx)) // notes the acknowledgements

	families := scrape(t, NewAgentCollector(a))
	assert.Equal(t, 2.0, find(t, families, "shardlog_agent_records_parsed_total", map[string]string{}).GetCounter().GetValue())
	assert.Equal(t, 2.0, find(t, families, "shardlog_agent_records_sent_total", map[string]string{}).GetCounter().GetValue())
	assert.Equal(t, 8.0, find(t, families, "shardlog_agent_bytes_sent_total", map[string]string{}).GetCounter().GetValue())
	assert.Equal(t, 0.0, find(t, families, "shardlog_agent_lag_bytes", map[string]string{"stream": "logs", "file": log}).GetGauge().GetValue())

	require.NoError(t, os.WriteFile(log, []byte("one\ntwo\nthree\n"), 0o644))
	families = scrape(t, NewAgentCollector(a))
	assert.Equal(t, 6.0, find(t, families, "shardlog_agent_lag_bytes", map[string]string{"stream": "logs", "file": log}).GetGauge().GetValue())

	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(NewAgentCollector(a)))
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
}

// TestDeliveryCollector: a delivery stream's metrics, under Firehose's
// names, passing promlint.
func TestDeliveryCollector(t *testing.T) {
	ctx := context.Background()
	acct, err := shardlog.NewAccount(shardlog.WithoutLimits())
	require.NoError(t, err)
	defer acct.Close()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "backing", ShardCount: 1})
	require.NoError(t, err)
	d, err := firehose.New(firehose.Config{Name: "orders", Source: s, DirectPut: true, Destination: firehose.Dir(t.TempDir()),
		Buffering: firehose.BufferingHints{SizeInMBs: 1, IntervalInSeconds: 0}, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	_, err = d.PutRecordBatch(ctx, [][]byte{[]byte("a\n"), []byte("bc\n")})
	require.NoError(t, err)
	run, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(run) }()
	require.Eventually(t, func() bool { return d.Totals().DeliveredRecords == 2 }, 20*time.Second, 5*time.Millisecond)
	stop()
	require.NoError(t, <-done)

	families := scrape(t, NewDeliveryCollector(d))
	l := map[string]string{"delivery_stream": "orders"}
	assert.Equal(t, 2.0, find(t, families, "shardlog_firehose_incoming_records_total", l).GetCounter().GetValue())
	assert.Equal(t, 5.0, find(t, families, "shardlog_firehose_incoming_bytes_total", l).GetCounter().GetValue())
	assert.Equal(t, 2.0, find(t, families, "shardlog_firehose_delivery_to_s3_records_total", l).GetCounter().GetValue())
	assert.Equal(t, 5.0, find(t, families, "shardlog_firehose_delivery_to_s3_bytes_total", l).GetCounter().GetValue())
	assert.Equal(t, 1.0, find(t, families, "shardlog_firehose_delivery_objects_total", l).GetCounter().GetValue())
	assert.Equal(t, 0.0, find(t, families, "shardlog_firehose_delivery_to_s3_data_freshness_seconds", l).GetGauge().GetValue())

	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(NewDeliveryCollector(d)))
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
}
