package firehoseapi

import (
	"context"
	"strconv"
	"strings"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehose"
)

// The Server is a cloudwatchapi.Source of the delivery streams' metrics:
// namespace AWS/Firehose, dimension DeliveryStreamName, the metrics of
// firehose.DeliveryStream.MetricNames. A series that does not exist has
// no datapoints, as on CloudWatch.

// GetMetricStatistics summarizes a delivery stream's metric per period.
func (s *Server) GetMetricStatistics(ctx context.Context, in shardlog.MetricStatisticsInput) (shardlog.MetricStatisticsOutput, error) {
	if _, err := s.kinesis.Authorize(ctx, "cloudwatch:GetMetricStatistics", "*"); err != nil {
		return shardlog.MetricStatisticsOutput{}, err
	}
	return shardlog.MetricStatisticsOutput{Label: in.MetricName, Datapoints: s.datapoints(in.Namespace, in.MetricName, in.Dimensions, in)}, nil
}

// datapoints are a series' datapoints, or none.
func (s *Server) datapoints(namespace, name string, dims []shardlog.Dimension, in shardlog.MetricStatisticsInput) []shardlog.Datapoint {
	if namespace != firehose.MetricsNamespace || len(dims) != 1 || dims[0].Name != "DeliveryStreamName" {
		return nil
	}
	s.mu.Lock()
	d := s.streams[dims[0].Value]
	s.mu.Unlock()
	if d == nil {
		return nil
	}
	ds := d.running()
	if ds == nil {
		return nil
	}
	points, _ := ds.MetricStatistics(name, in.StartTime, in.EndTime, in.Period)
	return points
}

// GetMetricData reads several series, each summarized by one statistic.
func (s *Server) GetMetricData(ctx context.Context, in shardlog.MetricDataInput) (shardlog.MetricDataOutput, error) {
	if _, err := s.kinesis.Authorize(ctx, "cloudwatch:GetMetricData", "*"); err != nil {
		return shardlog.MetricDataOutput{}, err
	}
	out := shardlog.MetricDataOutput{Results: make([]shardlog.MetricDataResult, len(in.Queries))}
	for i, q := range in.Queries {
		points := s.datapoints(q.Namespace, q.MetricName, q.Dimensions,
			shardlog.MetricStatisticsInput{StartTime: in.StartTime, EndTime: in.EndTime, Period: q.Period})
		for _, p := range points {
			if v, ok := statistic(p, q.Stat); ok && (q.Unit == "" || q.Unit == p.Unit) {
				out.Results[i].Timestamps = append(out.Results[i].Timestamps, p.Timestamp)
				out.Results[i].Values = append(out.Results[i].Values, v)
			}
		}
	}
	return out, nil
}

// statistic is one statistic of a datapoint; a percentile only where
// every sample was the same, as for CloudWatch's statistic sets.
func statistic(p shardlog.Datapoint, stat string) (float64, bool) {
	switch stat {
	case "Sum":
		return p.Sum, true
	case "Average":
		return p.Average, true
	case "Minimum":
		return p.Minimum, true
	case "Maximum":
		return p.Maximum, true
	case "SampleCount":
		return p.SampleCount, true
	}
	if pct, err := strconv.ParseFloat(strings.TrimPrefix(stat, "p"), 64); err == nil && strings.HasPrefix(stat, "p") && pct >= 0 && pct <= 100 {
		return p.Minimum, p.Minimum == p.Maximum
	}
	return 0, false
}

// ListMetrics names every delivery stream's series that has samples.
func (s *Server) ListMetrics(ctx context.Context) ([]shardlog.Metric, error) {
	if _, err := s.kinesis.Authorize(ctx, "cloudwatch:ListMetrics", "*"); err != nil {
		return nil, err
	}
	var out []shardlog.Metric
	for _, ds := range s.DeliveryStreams() {
		for _, name := range ds.MetricNames() {
			out = append(out, shardlog.Metric{Namespace: firehose.MetricsNamespace, MetricName: name,
				Dimensions: []shardlog.Dimension{{Name: "DeliveryStreamName", Value: ds.Name()}}})
		}
	}
	return out, nil
}
