package cloudwatchapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/cloudwatchapi"
)

// fakeSource answers one series of its namespace: Hits of thing=a, 7 a
// minute.
type fakeSource struct{ at time.Time }

func (f fakeSource) GetMetricStatistics(_ context.Context, in shardlog.MetricStatisticsInput) (shardlog.MetricStatisticsOutput, error) {
	out := shardlog.MetricStatisticsOutput{Label: in.MetricName}
	if in.MetricName == "Hits" && len(in.Dimensions) == 1 && in.Dimensions[0] == (shardlog.Dimension{Name: "thing", Value: "a"}) {
		out.Datapoints = []shardlog.Datapoint{{Timestamp: f.at, SampleCount: 1, Sum: 7, Average: 7, Minimum: 7, Maximum: 7, Unit: "Count"}}
	}
	return out, nil
}

func (f fakeSource) GetMetricData(ctx context.Context, in shardlog.MetricDataInput) (shardlog.MetricDataOutput, error) {
	out := shardlog.MetricDataOutput{Results: make([]shardlog.MetricDataResult, len(in.Queries))}
	for i, q := range in.Queries {
		st, _ := f.GetMetricStatistics(ctx, shardlog.MetricStatisticsInput{MetricName: q.MetricName, Dimensions: q.Dimensions})
		for _, p := range st.Datapoints {
			out.Results[i].Timestamps = append(out.Results[i].Timestamps, p.Timestamp)
			out.Results[i].Values = append(out.Results[i].Values, p.Sum)
		}
	}
	return out, nil
}

func (f fakeSource) ListMetrics(context.Context) ([]shardlog.Metric, error) {
	return []shardlog.Metric{{Namespace: "Test/Things", MetricName: "Hits", Dimensions: []shardlog.Dimension{{Name: "thing", Value: "a"}}}}, nil
}

// TestSources: a namespace served by another Source answers beside
// Kinesis's, in each operation, and GetMetricData keeps the queries'
// order across namespaces.
func TestSources(t *testing.T) {
	clk := shardlog.NewManualClock(t0)
	s := serve(t, clk, cloudwatchapi.WithSource("Test/Things", fakeSource{at: t0}))
	traffic(t, s.acct, clk, []int{100})
	c := sdk(s.url, anyKey)
	span := func() (*time.Time, *time.Time) { return aws.Time(t0.Add(-time.Hour)), aws.Time(t0.Add(time.Hour)) }
	start, end := span()

	st, err := c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("Test/Things"), MetricName: aws.String("Hits"),
		Dimensions: []types.Dimension{{Name: aws.String("thing"), Value: aws.String("a")}}, StartTime: start, EndTime: end,
		Period: aws.Int32(60), Statistics: []types.Statistic{types.StatisticSum}})
	require.NoError(t, err)
	require.Len(t, st.Datapoints, 1)
	require.Equal(t, 7.0, *st.Datapoints[0].Sum)

	data, err := c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: start, EndTime: end, MetricDataQueries: []types.MetricDataQuery{
		{Id: aws.String("hits"), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("Test/Things"), MetricName: aws.String("Hits"),
			Dimensions: []types.Dimension{{Name: aws.String("thing"), Value: aws.String("a")}}}, Period: aws.Int32(60), Stat: aws.String("Sum")}},
		{Id: aws.String("bytes"), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("AWS/Kinesis"), MetricName: aws.String("IncomingBytes"),
			Dimensions: stream}, Period: aws.Int32(60), Stat: aws.String("Sum")}},
		{Id: aws.String("none"), MetricStat: &types.MetricStat{Metric: &types.Metric{Namespace: aws.String("Nobody/Here"), MetricName: aws.String("X")},
			Period: aws.Int32(60), Stat: aws.String("Sum")}},
	}})
	require.NoError(t, err)
	require.Len(t, data.MetricDataResults, 3)
	require.Equal(t, "hits", *data.MetricDataResults[0].Id)
	require.Equal(t, []float64{7}, data.MetricDataResults[0].Values)
	require.Equal(t, "bytes", *data.MetricDataResults[1].Id)
	require.Equal(t, []float64{100}, data.MetricDataResults[1].Values)
	require.Empty(t, data.MetricDataResults[2].Values)

	list, err := c.ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
	require.NoError(t, err)
	namespaces := map[string]bool{}
	for _, m := range list.Metrics {
		namespaces[*m.Namespace] = true
	}
	require.Equal(t, map[string]bool{"AWS/Kinesis": true, "Test/Things": true}, namespaces)
}
