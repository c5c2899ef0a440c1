package shardlog

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"
)

// Datapoint is the statistics of one period's samples, as CloudWatch's
// GetMetricStatistics returns them (every statistic filled in).
type Datapoint struct {
	Timestamp   time.Time // the start of the period
	SampleCount float64
	Sum         float64
	Average     float64
	Minimum     float64
	Maximum     float64
	Unit        string // Bytes, Count or Milliseconds
}

// Dimension narrows a metric to a stream, a shard or a consumer.
type Dimension struct {
	Name  string // StreamName, ShardId or ConsumerName
	Value string
}

// MetricStatisticsInput asks for a metric's statistics, as CloudWatch's
// GetMetricStatistics does.
type MetricStatisticsInput struct {
	// Namespace is "AWS/Kinesis"; empty means it.
	Namespace  string
	MetricName string
	// Dimensions name the stream (StreamName), and for shard-level
	// metrics the shard (ShardId), for enhanced fan-out metrics the
	// consumer (ConsumerName); in any order.
	Dimensions []Dimension
	// StartTime (inclusive) and EndTime (exclusive) bound the samples; the
	// periods begin at StartTime's minute.
	StartTime, EndTime time.Time
	// Period is a positive multiple of a minute.
	Period time.Duration
}

// MetricStatisticsOutput holds one datapoint per period that has samples,
// in time order.
type MetricStatisticsOutput struct {
	Label      string
	Datapoints []Datapoint
}

// GetMetricStatistics returns a stream's metric, summarized per period, as
// CloudWatch's GetMetricStatistics does for Kinesis. The metrics are
// CloudWatch's: stream-level (IncomingBytes, PutRecords.ThrottledRecords,
// GetRecords.IteratorAgeMilliseconds, …) always, shard-level
// (IncomingBytes, OutgoingRecords, IteratorAgeMilliseconds, … with a
// ShardId) while [Stream.EnableEnhancedMonitoring] has them on, and the
// enhanced fan-out metrics of each consumer (SubscribeToShard.Success,
// SubscribeToShardEvent.MillisBehindLatest, …). Samples are per call, as
// on AWS: IncomingRecords' Maximum is the most records one put stored,
// ReadProvisionedThroughputExceeded's Average the share of GetRecords
// calls throttled. A record's bytes are its data and partition key, as the
// shard limits count them. Buckets are minutes of the account's clock,
// kept three hours. Latencies count only the time a call waited (for a sync, a
// fault): a call in memory takes no measurable time.
//
// A stream that does not exist has no datapoints. A caller acting as a
// principal ([WithCaller]) needs cloudwatch:GetMetricStatistics, as on
// AWS. Errors: ErrInvalidArgument for an unknown metric, dimensions that do
// not fit it, or a bad period or time range; ErrAccessDenied.
func (a *Account) GetMetricStatistics(ctx context.Context, in MetricStatisticsInput) (MetricStatisticsOutput, error) {
	if err := a.enter(ctx); err != nil {
		return MetricStatisticsOutput{}, err
	}
	if err := a.authorizeCloudWatch(ctx, "GetMetricStatistics"); err != nil {
		return MetricStatisticsOutput{}, err
	}
	q, err := parseMetricQuery(in)
	if err != nil {
		return MetricStatisticsOutput{}, err
	}
	return MetricStatisticsOutput{Label: in.MetricName, Datapoints: a.datapoints(q, in)}, nil
}

// datapoints summarizes q's series per period of in, in time order: none
// if its stream does not exist.
func (a *Account) datapoints(q metricQuery, in MetricStatisticsInput) []Datapoint {
	s, err := a.Stream(StreamRef{StreamName: q.stream})
	if err != nil {
		return nil
	}
	s.foldMeters()
	start, end := minuteOf(in.StartTime), minuteOf(in.EndTime.Add(-time.Nanosecond))
	step := int64(in.Period / time.Minute)
	h := &s.metrics
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Datapoint
	var sums []stat // of out's periods
	var period int64
	for _, r := range h.minutes {
		if r.minute < start || r.minute > end {
			continue
		}
		st, ok := q.stat(r)
		if !ok || st.n == 0 {
			continue
		}
		if p := (r.minute - start) / step; len(sums) == 0 || p != period {
			period = p
			out = append(out, Datapoint{Timestamp: time.Unix((start+p*step)*60, 0).UTC(), Unit: q.def.unit})
			sums = append(sums, stat{})
		}
		sums[len(sums)-1].merge(st)
	}
	for i, st := range sums {
		dp := &out[i]
		dp.SampleCount, dp.Sum, dp.Minimum, dp.Maximum = float64(st.n), st.sum, st.min, st.max
		dp.Average = st.sum / float64(st.n)
	}
	return out
}

// metricQuery is a validated MetricStatisticsInput's series.
type metricQuery struct {
	def      metricDef
	level    int // 0 stream, 1 shard, 2 consumer
	index    int // in the level's table
	stream   string
	shard    uint32
	consumer string
}

func (q *metricQuery) stat(r *minuteRecord) (stat, bool) {
	switch q.level {
	case 1:
		m, ok := r.shards[q.shard]
		if !ok {
			return stat{}, false
		}
		return m[q.index], true
	case 2:
		m, ok := r.consumers[q.consumer]
		if !ok {
			return stat{}, false
		}
		return m[q.index], true
	}
	return r.stream[q.index], true
}

func parseMetricQuery(in MetricStatisticsInput) (metricQuery, error) {
	var q metricQuery
	if in.Namespace != "" && in.Namespace != MetricsNamespace {
		return q, newError(ErrInvalidArgument, "Namespace %s is not %s.", in.Namespace, MetricsNamespace)
	}
	if in.Period <= 0 || in.Period%time.Minute != 0 {
		return q, newError(ErrInvalidArgument, "The parameter Period must be a multiple of 60 seconds; got %v.", in.Period)
	}
	if !in.StartTime.Before(in.EndTime) {
		return q, newError(ErrInvalidArgument, "The parameter StartTime must be less than the parameter EndTime.")
	}
	dims := map[string]string{}
	for _, d := range in.Dimensions {
		if _, dup := dims[d.Name]; dup {
			return q, newError(ErrInvalidArgument, "The dimension %s appears more than once.", d.Name)
		}
		dims[d.Name] = d.Value
	}
	q.stream = dims[dimStream]
	if q.stream == "" {
		return q, newError(ErrInvalidArgument, "Kinesis metrics need the dimension StreamName.")
	}
	var table []metricDef
	switch {
	case len(dims) == 1:
		table = streamMetrics[:]
	case len(dims) == 2 && dims[dimShard] != "":
		i, ok := resolveShardID(dims[dimShard])
		if !ok {
			return q, newError(ErrInvalidArgument, "ShardId %s names no shard.", dims[dimShard])
		}
		q.level, q.shard, table = 1, i, shardMetrics[:]
	case len(dims) == 2 && dims[dimConsumer] != "":
		q.level, q.consumer, table = 2, dims[dimConsumer], consumerMetrics[:]
	default:
		return q, newError(ErrInvalidArgument, "Kinesis metrics have the dimensions StreamName, StreamName and ShardId, or StreamName and ConsumerName.")
	}
	q.index = slices.IndexFunc(table, func(d metricDef) bool { return d.name == in.MetricName })
	if q.index < 0 {
		return q, newError(ErrInvalidArgument, "Kinesis has no metric %s with those dimensions.", in.MetricName)
	}
	q.def = table[q.index]
	return q, nil
}

// MetricTotal is a metric's sum and sample count since its stream was
// created (or, in a durable account, opened): a counter that only grows,
// for exporters such as Prometheus.
type MetricTotal struct {
	MetricName  string
	Dimensions  []Dimension // StreamName first, then ShardId or ConsumerName
	Unit        string
	Sum         float64
	SampleCount int64
	// Maximum is the largest sample of the current and the previous minute,
	// CloudWatch's Maximum of the latest one-minute period, for alarms on
	// peaks; RecentSamples counts those samples (0: none, and no Maximum).
	Maximum       float64
	RecentSamples int64
}

// MetricTotals returns the totals of every metric of every stream that
// has samples, by stream, then shard-level and consumer metrics. A caller
// acting as a principal needs cloudwatch:GetMetricData.
func (a *Account) MetricTotals(ctx context.Context) ([]MetricTotal, error) {
	if err := a.enter(ctx); err != nil {
		return nil, err
	}
	if err := a.authorizeCloudWatch(ctx, "GetMetricData"); err != nil {
		return nil, err
	}
	return a.metricTotals(), nil
}

// metricTotals is MetricTotals for a caller already allowed.
func (a *Account) metricTotals() []MetricTotal {
	var out []MetricTotal
	streams := a.streamList()
	slices.SortFunc(streams, func(x, y *Stream) int { return strings.Compare(x.name, y.name) })
	recent := minuteOf(a.cfg.clock.Now()) - 1
	for _, s := range streams {
		s.foldMeters()
		out = s.appendTotals(out, recent)
	}
	return out
}

// appendTotals appends the stream's series that have samples: its own,
// then its shards', then its consumers', each with its maximum since
// minute since.
func (s *Stream) appendTotals(out []MetricTotal, since int64) []MetricTotal {
	h := &s.metrics
	h.mu.Lock()
	defer h.mu.Unlock()
	var recent []*minuteRecord
	for i := len(h.minutes) - 1; i >= 0 && h.minutes[i].minute >= since; i-- {
		recent = append(recent, h.minutes[i])
	}
	t := &h.total
	stream := Dimension{dimStream, s.name}
	out = appendSeries(out, streamMetrics[:], t.stream[:], func(r *minuteRecord) []stat { return r.stream[:] }, recent, stream)
	for _, i := range slices.Sorted(maps.Keys(t.shards)) {
		out = appendSeries(out, shardMetrics[:], t.shards[i][:], func(r *minuteRecord) []stat {
			if m := r.shards[i]; m != nil {
				return m[:]
			}
			return nil
		}, recent, stream, Dimension{dimShard, shardID(i)})
	}
	for _, name := range slices.Sorted(maps.Keys(t.consumers)) {
		out = appendSeries(out, consumerMetrics[:], t.consumers[name][:], func(r *minuteRecord) []stat {
			if m := r.consumers[name]; m != nil {
				return m[:]
			}
			return nil
		}, recent, stream, Dimension{dimConsumer, name})
	}
	return out
}

// appendSeries appends a MetricTotal for each of totals that has samples,
// its maximum taken from the recent records' series (of picks them).
func appendSeries(out []MetricTotal, defs []metricDef, totals []stat, of func(*minuteRecord) []stat, recent []*minuteRecord, dims ...Dimension) []MetricTotal {
	for i, st := range totals {
		if st.n == 0 {
			continue
		}
		var last stat
		for _, r := range recent {
			if series := of(r); series != nil {
				last.merge(series[i])
			}
		}
		out = append(out, MetricTotal{MetricName: defs[i].name, Dimensions: slices.Clone(dims), Unit: defs[i].unit,
			Sum: st.sum, SampleCount: st.n, Maximum: last.max, RecentSamples: last.n})
	}
	return out
}
