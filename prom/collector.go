// Package prom exports an account's metrics to Prometheus: register
// [NewCollector] with a registry, as shardlogd does for its GET /metrics.
//
// Each CloudWatch metric of [shardlog.Account.MetricTotals] becomes a
// summary (a sum and a count, no quantiles) named after it, in
// Prometheus's base units: IncomingBytes is shardlog_incoming_bytes{stream},
// its shard-level twin (while enhanced monitoring has it on)
// shardlog_shard_incoming_bytes{stream,shard}, and a metric in
// milliseconds is in seconds, named so: GetRecords.IteratorAgeMilliseconds
// is shardlog_get_records_iterator_age_seconds{stream} and
// SubscribeToShardEvent.MillisBehindLatest is
// shardlog_subscribe_to_shard_event_behind_latest_seconds{stream,consumer}.
// rate() of a …_sum is the metric's CloudWatch Sum per second, …_sum over
// …_count its Average. Beside each summary, a gauge with the suffix _max
// is CloudWatch's Maximum of the last minute (the current and the previous
// one), present while the series has samples then: the usual "maximum
// iterator age" alarm is
// max_over_time(shardlog_get_records_iterator_age_seconds_max[5m]).
// Consumer groups that keep their leases in the account report
// shardlog_group_records_behind and shardlog_group_behind_seconds, gauges
// per stream, group and shard. A durable account's damage found so far
// (Account.Recovery) is shardlog_storage_damage,
// shardlog_storage_damaged_records and shardlog_storage_torn_tails; the
// records size bounds dropped, shardlog_size_bound_dropped_records_total
// and …_bytes_total.
package prom

import (
	"context"
	"strings"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/autoscale"
)

// NewCollector returns a collector of acct's metrics. It reads them at
// every scrape; series come and go with streams, shards and consumers, so
// it describes none in advance (an unchecked collector).
func NewCollector(acct *shardlog.Account) prometheus.Collector {
	return collector{acct: acct}
}

type collector struct{ acct *shardlog.Account }

var (
	groupRecordsBehind = prometheus.NewDesc("shardlog_group_records_behind",
		"Records of the shard after the consumer group's checkpoint.", []string{"stream", "group", "shard"}, nil)
	groupBehind = prometheus.NewDesc("shardlog_group_behind_seconds",
		"Age in seconds of the oldest record after the consumer group's checkpoint (0 when none).", []string{"stream", "group", "shard"}, nil)
	failed = prometheus.NewDesc("shardlog_metrics_unavailable", "The account's metrics could not be read.", nil, nil)

	storageDamage = prometheus.NewDesc("shardlog_storage_damage",
		"Damage to a durable account's files found so far, when opening or reading records back (Account.Recovery().Corrupt).", nil, nil)
	damagedRecords = prometheus.NewDesc("shardlog_storage_damaged_records",
		"Records that damage made unreadable, as far as opening could count them.", nil, nil)
	tornTails = prometheus.NewDesc("shardlog_storage_torn_tails",
		"Segment files that opening cut at a write a crash tore (Account.Recovery().TornTails).", nil, nil)
	droppedRecords = prometheus.NewDesc("shardlog_size_bound_dropped_records_total",
		"Records that size bounds dropped since the account opened (Account.SizeBoundDrops).", nil, nil)
	writeUtilization = prometheus.NewDesc("shardlog_shard_write_utilization",
		"The share of an open shard's write limit (bytes or records, the larger) used in the last full minute (Stream.ShardLoads).", []string{"stream", "shard"}, nil)
	readUtilization = prometheus.NewDesc("shardlog_shard_read_utilization",
		"The share of an open shard's GetRecords byte limit used in the last full minute.", []string{"stream", "shard"}, nil)
	hottestKeyShare = prometheus.NewDesc("shardlog_shard_hottest_key_share",
		"The share of an open shard's records of the last full minute that its busiest partition key took (Stream.ShardLoads names it).", []string{"stream", "shard"}, nil)
	droppedBytes = prometheus.NewDesc("shardlog_size_bound_dropped_bytes_total",
		"Key and data bytes of the records that size bounds dropped since the account opened.", nil, nil)
)

func (collector) Describe(chan<- *prometheus.Desc) {}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx := context.Background()
	if !collectTotals(ctx, c.acct, "shardlog_", "Kinesis's", failed, ch) {
		return
	}
	c.collectStreams(ctx, ch)
	c.collectRecovery(ch)
}

// Totals is what keeps CloudWatch-style metric totals: a
// *shardlog.Account, a *producer.Producer.
type Totals interface {
	MetricTotals(ctx context.Context) ([]shardlog.MetricTotal, error)
}

// collectTotals sends a summary and a _max gauge per series of src, named
// with prefix; whose says whose metrics they are. It reports whether the
// totals could be read (failed is sent if not).
func collectTotals(ctx context.Context, src Totals, prefix, whose string, failed *prometheus.Desc, ch chan<- prometheus.Metric) bool {
	totals, err := src.MetricTotals(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(failed, err)
		return false
	}
	descs := map[string][2]*prometheus.Desc{} // the summary and the maximum
	for _, m := range totals {
		name, labels, values := series(prefix, m)
		unit, scale := baseUnit(m.Unit)
		d, ok := descs[name]
		if !ok {
			d = [2]*prometheus.Desc{
				prometheus.NewDesc(name, whose+" CloudWatch metric "+m.MetricName+", in "+unit+": the sum and the number of its samples.", labels, nil),
				prometheus.NewDesc(name+"_max", whose+" CloudWatch metric "+m.MetricName+", in "+unit+": its Maximum of the last minute.", labels, nil),
			}
			descs[name] = d
		}
		ch <- prometheus.MustNewConstSummary(d[0], uint64(m.SampleCount), m.Sum*scale, nil, values...)
		if m.RecentSamples > 0 {
			ch <- prometheus.MustNewConstMetric(d[1], prometheus.GaugeValue, m.Maximum*scale, values...)
		}
	}
	return true
}

// NewAutoscalerCollector returns a collector of autoscalers' decisions:
// shardlog_autoscaler_looks_total{stream} and
// shardlog_autoscaler_decisions_total{stream,action}, action being split,
// merge, refused or held.
func NewAutoscalerCollector(scalers ...*autoscale.Autoscaler) prometheus.Collector {
	return autoscalerCollector(scalers)
}

type autoscalerCollector []*autoscale.Autoscaler

var (
	autoscalerLooks = prometheus.NewDesc("shardlog_autoscaler_looks_total",
		"The times the autoscaler read the stream's shard loads.", []string{"stream"}, nil)
	autoscalerDecisions = prometheus.NewDesc("shardlog_autoscaler_decisions_total",
		"The autoscaler's decisions, by action: split, merge, refused (by the stream), held (by its rules).", []string{"stream", "action"}, nil)
)

func (autoscalerCollector) Describe(chan<- *prometheus.Desc) {}

func (c autoscalerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, a := range c {
		t, name := a.Totals(), a.StreamName()
		ch <- prometheus.MustNewConstMetric(autoscalerLooks, prometheus.CounterValue, float64(t.Looks), name)
		for action, n := range map[autoscale.Action]int64{autoscale.Split: t.Splits, autoscale.Merge: t.Merges, autoscale.Refused: t.Refused, autoscale.Held: t.Held} {
			ch <- prometheus.MustNewConstMetric(autoscalerDecisions, prometheus.CounterValue, float64(n), name, string(action))
		}
	}
}

// NewProducerCollector returns a collector of a producer's metrics
// (producer.Producer.MetricTotals, the Kinesis Producer Library's), named
// as the account's are with the prefix shardlog_producer_:
// UserRecordsPut is shardlog_producer_user_records_put{stream},
// ErrorsByCode shardlog_producer_errors_by_code{stream,error_code},
// BufferingTime shardlog_producer_buffering_time_seconds{stream}.
func NewProducerCollector(p Totals) prometheus.Collector { return producerCollector{p} }

type producerCollector struct{ p Totals }

var producerFailed = prometheus.NewDesc("shardlog_producer_metrics_unavailable", "The producer's metrics could not be read.", nil, nil)

func (producerCollector) Describe(chan<- *prometheus.Desc) {}

func (c producerCollector) Collect(ch chan<- prometheus.Metric) {
	collectTotals(context.Background(), c.p, "shardlog_producer_", "The Kinesis Producer Library's", producerFailed, ch)
}

// collectRecovery reports the damage a durable account has found, and
// what size bounds dropped.
func (c collector) collectRecovery(ch chan<- prometheus.Metric) {
	rep := c.acct.Recovery()
	var records uint64
	for _, d := range rep.Corrupt {
		records += d.Records
	}
	ch <- prometheus.MustNewConstMetric(storageDamage, prometheus.GaugeValue, float64(len(rep.Corrupt)))
	ch <- prometheus.MustNewConstMetric(damagedRecords, prometheus.GaugeValue, float64(records))
	ch <- prometheus.MustNewConstMetric(tornTails, prometheus.GaugeValue, float64(len(rep.TornTails)))
	drops := c.acct.SizeBoundDrops()
	ch <- prometheus.MustNewConstMetric(droppedRecords, prometheus.CounterValue, float64(drops.Records))
	ch <- prometheus.MustNewConstMetric(droppedBytes, prometheus.CounterValue, float64(drops.Bytes))
}

// collectStreams reports, for every stream, the load of its open shards
// and the lag of its groups.
func (c collector) collectStreams(ctx context.Context, ch chan<- prometheus.Metric) {
	var names []string
	for in := (shardlog.ListStreamsInput{Limit: 10000}); ; {
		page, err := c.acct.ListStreams(ctx, in)
		if err != nil {
			return
		}
		names = append(names, page.StreamNames...)
		if !page.HasMoreStreams {
			break
		}
		in = shardlog.ListStreamsInput{Limit: 10000, NextToken: page.NextToken}
	}
	for _, name := range names {
		s, err := c.acct.Stream(shardlog.StreamRef{StreamName: name})
		if err != nil {
			continue // deleted since it was listed
		}
		if loads, err := s.ShardLoads(ctx); err == nil {
			for _, l := range loads {
				ch <- prometheus.MustNewConstMetric(writeUtilization, prometheus.GaugeValue, l.WriteUtilization, name, l.ShardID)
				ch <- prometheus.MustNewConstMetric(readUtilization, prometheus.GaugeValue, l.ReadUtilization, name, l.ShardID)
				share := 0.0
				if len(l.HotKeys) > 0 && l.WriteRecords > 0 {
					share = float64(l.HotKeys[0].Records) / float64(l.WriteRecords)
				}
				ch <- prometheus.MustNewConstMetric(hottestKeyShare, prometheus.GaugeValue, share, name, l.ShardID)
			}
		}
		groups, err := s.ListGroups(ctx)
		if err != nil {
			continue
		}
		for _, g := range groups {
			shards, err := s.DescribeGroup(ctx, g, nil)
			if err != nil {
				continue
			}
			for _, sh := range shards {
				ch <- prometheus.MustNewConstMetric(groupRecordsBehind, prometheus.GaugeValue, float64(sh.RecordsBehind), name, g, sh.Key)
				ch <- prometheus.MustNewConstMetric(groupBehind, prometheus.GaugeValue, float64(sh.MillisBehind)/1000, name, g, sh.Key)
			}
		}
	}
}

// baseUnit returns the Prometheus unit of a CloudWatch one, and the factor
// to it: milliseconds become seconds.
func baseUnit(unit string) (string, float64) {
	if unit == "Milliseconds" {
		return "seconds", 1e-3
	}
	return strings.ToLower(unit), 1
}

// metricName is a CloudWatch metric's name in Prometheus's words, in base
// units: "GetRecords.IteratorAgeMilliseconds" is
// "get_records_iterator_age_seconds".
func metricName(m shardlog.MetricTotal) string {
	name := snake(m.MetricName)
	if m.Unit == "Milliseconds" {
		name = strings.TrimSuffix(name, "_milliseconds")
		name = strings.Replace(name, "millis_", "", 1)
		name += "_seconds"
	}
	return name
}

// series names a CloudWatch series in Prometheus's words.
func series(prefix string, m shardlog.MetricTotal) (name string, labels, values []string) {
	name = prefix + metricName(m)
	for _, d := range m.Dimensions {
		switch d.Name {
		case "StreamName":
			labels, values = append(labels, "stream"), append(values, d.Value)
		case "ShardId":
			name = prefix + "shard_" + metricName(m)
			labels, values = append(labels, "shard"), append(values, d.Value)
		case "ConsumerName":
			labels, values = append(labels, "consumer"), append(values, d.Value)
		case "ErrorCode":
			labels, values = append(labels, "error_code"), append(values, d.Value)
		}
	}
	return name, labels, values
}

// snake turns "PutRecords.ThrottledRecords" into "put_records_throttled_records".
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '.':
			b.WriteByte('_')
		case unicode.IsUpper(r):
			if i > 0 && s[i-1] != '.' {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
