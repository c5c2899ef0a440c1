package shardlog_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
)

// TestGetMetricData: several series at once, each by its statistic, in
// time order; series that do not exist have no values, as on CloudWatch.
func TestGetMetricData(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "orders", 1)
	from := t0.Truncate(time.Minute)
	for minute, sizes := range [][]int{{10, 30}, {20}, {5, 5, 5}} {
		for _, n := range sizes {
			_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: make([]byte, n-1)})
			require.NoError(t, err)
		}
		if minute < 2 {
			clk.Advance(time.Minute)
		}
	}
	stream := []shardlog.Dimension{{Name: "StreamName", Value: "orders"}}
	query := func(name, stat string) shardlog.MetricDataQuery {
		return shardlog.MetricDataQuery{MetricName: name, Dimensions: stream, Period: time.Minute, Stat: stat}
	}
	out, err := a.GetMetricData(ctx, shardlog.MetricDataInput{
		StartTime: from, EndTime: from.Add(time.Hour),
		Queries: []shardlog.MetricDataQuery{
			query("PutRecord.Bytes", "Sum"),
			query("PutRecord.Bytes", "Maximum"),
			query("PutRecord.Bytes", "p50"), // only where the samples agree
			query("PutRecord.Success", "SampleCount"),
			query("IncomingBits", "Sum"),
			{Namespace: "AWS/EC2", MetricName: "CPUUtilization", Period: time.Minute, Stat: "Average"},
		},
	})
	require.NoError(t, err)
	require.Len(t, out.Results, 6)
	minutes := []time.Time{from, from.Add(time.Minute), from.Add(2 * time.Minute)}
	assert.Equal(t, minutes, out.Results[0].Timestamps)
	assert.Equal(t, []float64{40, 20, 15}, out.Results[0].Values)
	assert.Equal(t, []float64{30, 20, 5}, out.Results[1].Values)
	assert.Equal(t, minutes[1:], out.Results[2].Timestamps)
	assert.Equal(t, []float64{20, 5}, out.Results[2].Values)
	assert.Equal(t, []float64{2, 1, 3}, out.Results[3].Values)
	assert.Empty(t, out.Results[4].Values, "a metric Kinesis does not publish")
	assert.Empty(t, out.Results[5].Values, "another namespace")

	hourly, err := a.GetMetricData(ctx, shardlog.MetricDataInput{
		StartTime: from, EndTime: from.Add(time.Hour), Queries: []shardlog.MetricDataQuery{
			{MetricName: "PutRecord.Bytes", Dimensions: stream, Period: time.Hour, Stat: "Average"}},
	})
	require.NoError(t, err)
	assert.Equal(t, []float64{75.0 / 6}, hourly.Results[0].Values)
}

// TestGetMetricDataBadInput: what GetMetricData cannot answer is an
// InvalidArgument, and nothing is read.
func TestGetMetricDataBadInput(t *testing.T) {
	a, _ := newAccount(t)
	newStream(t, a, "orders", 1)
	good := shardlog.MetricDataQuery{MetricName: "IncomingBytes",
		Dimensions: []shardlog.Dimension{{Name: "StreamName", Value: "orders"}}, Period: time.Minute, Stat: "Sum"}
	for name, in := range map[string]shardlog.MetricDataInput{
		"too many":      {StartTime: t0, EndTime: t0.Add(time.Hour), Queries: make([]shardlog.MetricDataQuery, 501)},
		"end first":     {StartTime: t0, EndTime: t0, Queries: []shardlog.MetricDataQuery{good}},
		"period 90s":    {StartTime: t0, EndTime: t0.Add(time.Hour), Queries: []shardlog.MetricDataQuery{{Stat: "Sum", Period: 90 * time.Second}}},
		"statistic":     {StartTime: t0, EndTime: t0.Add(time.Hour), Queries: []shardlog.MetricDataQuery{{Stat: "Median", Period: time.Minute}}},
		"p101":          {StartTime: t0, EndTime: t0.Add(time.Hour), Queries: []shardlog.MetricDataQuery{{Stat: "p101", Period: time.Minute}}},
		"p99.999":       {StartTime: t0, EndTime: t0.Add(time.Hour), Queries: []shardlog.MetricDataQuery{{Stat: "p99.999", Period: time.Minute}}},
		"p-1":           {StartTime: t0, EndTime: t0.Add(time.Hour), Queries: []shardlog.MetricDataQuery{{Stat: "p-1", Period: time.Minute}}},
		"p":             {StartTime: t0, EndTime: t0.Add(time.Hour), Queries: []shardlog.MetricDataQuery{{Stat: "p", Period: time.Minute}}},
		"zero period":   {StartTime: t0, EndTime: t0.Add(time.Hour), Queries: []shardlog.MetricDataQuery{{Stat: "Sum"}}},
		"no statistic":  {StartTime: t0, EndTime: t0.Add(time.Hour), Queries: []shardlog.MetricDataQuery{{Period: time.Minute}}},
		"percentile 1e": {StartTime: t0, EndTime: t0.Add(time.Hour), Queries: []shardlog.MetricDataQuery{{Stat: "p1e1", Period: time.Minute}}},
	} {
		_, err := a.GetMetricData(ctx, in)
		require.ErrorIs(t, err, shardlog.ErrInvalidArgument, name)
	}
	for _, stat := range []string{"p0", "p100", "p99.9", "p99.99", "p50"} {
		in := good
		in.Stat = stat
		_, err := a.GetMetricData(ctx, shardlog.MetricDataInput{StartTime: t0, EndTime: t0.Add(time.Hour), Queries: []shardlog.MetricDataQuery{in}})
		require.NoError(t, err, stat)
	}
}

// TestListMetrics: every series with samples, by stream, then shard and
// consumer series; nothing for a stream no one has used.
func TestListMetrics(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "orders", 1)
	newStream(t, a, "idle", 1)
	metrics, err := a.ListMetrics(ctx)
	require.NoError(t, err)
	assert.Empty(t, metrics)

	_, err = s.EnableEnhancedMonitoring(ctx, []string{"IncomingBytes"})
	require.NoError(t, err)
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("x")})
	require.NoError(t, err)
	metrics, err = a.ListMetrics(ctx)
	require.NoError(t, err)
	names := map[string][]shardlog.Dimension{}
	for _, m := range metrics {
		require.Equal(t, shardlog.MetricsNamespace, m.Namespace)
		require.Equal(t, shardlog.Dimension{Name: "StreamName", Value: "orders"}, m.Dimensions[0])
		key := m.MetricName
		if len(m.Dimensions) > 1 {
			key += "/" + m.Dimensions[1].Name
		}
		names[key] = m.Dimensions
	}
	assert.Contains(t, names, "IncomingBytes")
	assert.Contains(t, names, "PutRecord.Success")
	assert.Equal(t, []shardlog.Dimension{{Name: "StreamName", Value: "orders"}, {Name: "ShardId", Value: "shardId-000000000000"}},
		names["IncomingBytes/ShardId"])
	assert.NotContains(t, names, "GetRecords.Success", "no reads yet")
}

// TestMetricDataAccess: GetMetricData and ListMetrics are CloudWatch's
// actions, each granted on its own.
func TestMetricDataAccess(t *testing.T) {
	a, _, _ := roleAccount(t)
	require.NoError(t, a.PutPrincipal(userARN("lister"), `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"cloudwatch:ListMetrics","Resource":"*"}]}`))
	require.NoError(t, a.PutPrincipal(userARN("reader"), `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"cloudwatch:GetMetricData","Resource":"*"}]}`))
	in := shardlog.MetricDataInput{StartTime: t0, EndTime: t0.Add(time.Hour)}
	_, err := a.ListMetrics(as("lister"))
	require.NoError(t, err)
	_, err = a.GetMetricData(as("lister"), in)
	require.ErrorIs(t, err, shardlog.ErrAccessDenied)
	require.ErrorContains(t, err, "cloudwatch:GetMetricData")
	_, err = a.GetMetricData(as("reader"), in)
	require.NoError(t, err)
	_, err = a.ListMetrics(as("reader"))
	require.ErrorIs(t, err, shardlog.ErrAccessDenied)
	require.ErrorContains(t, err, "cloudwatch:ListMetrics")
}
