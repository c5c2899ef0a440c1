package cloudwatchapi

import (
	"context"

	"github.com/shardlog/shardlog"
)

// Source is what the handler reads a namespace's metrics from: a
// shardlog.Account (AWS/Kinesis), or a firehoseapi.Server (AWS/Firehose).
// A series it does not have has no values, as on CloudWatch.
type Source interface {
	GetMetricStatistics(ctx context.Context, in shardlog.MetricStatisticsInput) (shardlog.MetricStatisticsOutput, error)
	GetMetricData(ctx context.Context, in shardlog.MetricDataInput) (shardlog.MetricDataOutput, error)
	ListMetrics(ctx context.Context) ([]shardlog.Metric, error)
}

// WithSource serves the metrics of namespace from src, beside the
// account's (shardlogd: AWS/Firehose from its delivery streams).
func WithSource(namespace string, src Source) Option {
	return func(h *handler) { h.sources[namespace] = src }
}

// sources route each query to the Source of its namespace.
type sources map[string]Source

// has reports whether a namespace has a Source.
func (s sources) has(namespace string) bool { return s[namespace] != nil }

func (s sources) GetMetricStatistics(ctx context.Context, in shardlog.MetricStatisticsInput) (shardlog.MetricStatisticsOutput, error) {
	return s[in.Namespace].GetMetricStatistics(ctx, in)
}

// GetMetricData asks each namespace's Source for its queries and puts the
// results back in the queries' order; queries of a namespace no Source
// has get no values.
func (s sources) GetMetricData(ctx context.Context, in shardlog.MetricDataInput) (shardlog.MetricDataOutput, error) {
	out := shardlog.MetricDataOutput{Results: make([]shardlog.MetricDataResult, len(in.Queries))}
	byNamespace := map[string][]int{}
	for i, q := range in.Queries {
		if s.has(q.Namespace) {
			byNamespace[q.Namespace] = append(byNamespace[q.Namespace], i)
		}
	}
	for ns, idx := range byNamespace {
		part := in
		part.Queries = make([]shardlog.MetricDataQuery, len(idx))
		for k, i := range idx {
			part.Queries[k] = in.Queries[i]
		}
		res, err := s[ns].GetMetricData(ctx, part)
		if err != nil {
			return out, err
		}
		for k, i := range idx {
			out.Results[i] = res.Results[k]
		}
	}
	return out, nil
}

// ListMetrics lists every Source's series, the account's first.
func (s sources) ListMetrics(ctx context.Context) ([]shardlog.Metric, error) {
	out, err := s[shardlog.MetricsNamespace].ListMetrics(ctx)
	if err != nil {
		return nil, err
	}
	for ns, src := range s {
		if ns == shardlog.MetricsNamespace {
			continue
		}
		more, err := src.ListMetrics(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}
