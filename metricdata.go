package shardlog

import (
	"context"
	"time"

	"github.com/shardlog/shardlog/internal/statistic"
)

// maxMetricDataQueries is CloudWatch's bound on the metrics of one
// GetMetricData call.
const maxMetricDataQueries = 500

// MetricDataQuery is one series a GetMetricData call reads: CloudWatch's
// MetricStat.
type MetricDataQuery struct {
	// Namespace, MetricName and Dimensions name the series, as in
	// MetricStatisticsInput.
	Namespace  string
	MetricName string
	Dimensions []Dimension
	// Period is a positive multiple of a minute.
	Period time.Duration
	// Stat is SampleCount, Average, Sum, Minimum, Maximum, or a
	// percentile p0 to p100 (decimals allowed, as p99.9).
	Stat string
	// Unit, if set, narrows the query to a series of that unit: a series
	// Kinesis publishes in another has no values, as on CloudWatch.
	Unit string
}

// MetricDataInput asks for several series at once, as CloudWatch's
// GetMetricData does.
type MetricDataInput struct {
	Queries []MetricDataQuery // at most 500
	// StartTime (inclusive) and EndTime (exclusive) bound the samples.
	StartTime, EndTime time.Time
}

// MetricDataResult is one query's values, one per period that has them,
// in time order.
type MetricDataResult struct {
	Timestamps []time.Time // the start of each period
	Values     []float64
}

// MetricDataOutput holds a result per query, in the queries' order.
type MetricDataOutput struct {
	Results []MetricDataResult
}

// GetMetricData reads several series, each summarized per period by one
// statistic, as CloudWatch's GetMetricData does. As on CloudWatch, a
// series that does not exist (another namespace, a metric Kinesis does not
// publish, a stream that is gone) has no values rather than an error. The
// samples of a period are kept as a statistic set (count, sum, minimum,
// maximum), so, as on CloudWatch for statistic sets, a percentile has a
// value only for periods whose samples are all equal.
//
// A caller acting as a principal needs cloudwatch:GetMetricData. Errors:
// ErrInvalidArgument for more than 500 queries, a bad period, statistic or
// time range; ErrAccessDenied.
func (a *Account) GetMetricData(ctx context.Context, in MetricDataInput) (MetricDataOutput, error) {
	if err := a.enter(ctx); err != nil {
		return MetricDataOutput{}, err
	}
	if err := a.authorizeCloudWatch(ctx, "GetMetricData"); err != nil {
		return MetricDataOutput{}, err
	}
	if len(in.Queries) > maxMetricDataQueries {
		return MetricDataOutput{}, newError(ErrInvalidArgument, "GetMetricData reads at most %d metrics; got %d.", maxMetricDataQueries, len(in.Queries))
	}
	picks := make([]func(Datapoint) (float64, bool), len(in.Queries))
	for i, q := range in.Queries {
		pick, err := statisticOf(q.Stat)
		if err != nil {
			return MetricDataOutput{}, err
		}
		picks[i] = pick
		if q.Period <= 0 || q.Period%time.Minute != 0 {
			return MetricDataOutput{}, newError(ErrInvalidArgument, "The parameter Period must be a multiple of 60 seconds; got %v.", q.Period)
		}
	}
	if !in.StartTime.Before(in.EndTime) {
		return MetricDataOutput{}, newError(ErrInvalidArgument, "The parameter StartTime must be less than the parameter EndTime.")
	}
	out := MetricDataOutput{Results: make([]MetricDataResult, len(in.Queries))}
	for i, q := range in.Queries {
		stats := MetricStatisticsInput{Namespace: q.Namespace, MetricName: q.MetricName, Dimensions: q.Dimensions,
			StartTime: in.StartTime, EndTime: in.EndTime, Period: q.Period}
		mq, err := parseMetricQuery(stats)
		if err != nil || q.Unit != "" && q.Unit != mq.def.unit {
			continue // no such series: no values
		}
		r := &out.Results[i]
		for _, dp := range a.datapoints(mq, stats) {
			if v, ok := picks[i](dp); ok {
				r.Timestamps = append(r.Timestamps, dp.Timestamp)
				r.Values = append(r.Values, v)
			}
		}
	}
	return out, nil
}

// statisticOf returns the function that reads stat from a datapoint, and
// whether the datapoint has it.
func statisticOf(stat string) (func(Datapoint) (float64, bool), error) {
	switch stat {
	case "SampleCount":
		return func(d Datapoint) (float64, bool) { return d.SampleCount, true }, nil
	case "Sum":
		return func(d Datapoint) (float64, bool) { return d.Sum, true }, nil
	case "Average":
		return func(d Datapoint) (float64, bool) { return d.Average, true }, nil
	case "Minimum":
		return func(d Datapoint) (float64, bool) { return d.Minimum, true }, nil
	case "Maximum":
		return func(d Datapoint) (float64, bool) { return d.Maximum, true }, nil
	}
	if !statistic.IsPercentile(stat) {
		return nil, newError(ErrInvalidArgument, "The statistic %s is not SampleCount, Average, Sum, Minimum, Maximum or a percentile p0 to p100.", stat)
	}
	return func(d Datapoint) (float64, bool) { return d.Minimum, d.Minimum == d.Maximum }, nil
}

// Metric names one series: CloudWatch's Metric.
type Metric struct {
	Namespace  string
	MetricName string
	Dimensions []Dimension // StreamName first, then ShardId or ConsumerName
}

// ListMetrics names every series that has samples, as CloudWatch's
// ListMetrics does for Kinesis's namespace: by stream, then its
// shard-level and consumer series. A caller acting as a principal needs
// cloudwatch:ListMetrics. Errors: ErrAccessDenied.
func (a *Account) ListMetrics(ctx context.Context) ([]Metric, error) {
	if err := a.enter(ctx); err != nil {
		return nil, err
	}
	if err := a.authorizeCloudWatch(ctx, "ListMetrics"); err != nil {
		return nil, err
	}
	totals := a.metricTotals()
	out := make([]Metric, len(totals))
	for i, t := range totals {
		out[i] = Metric{Namespace: MetricsNamespace, MetricName: t.MetricName, Dimensions: t.Dimensions}
	}
	return out, nil
}
