package firehose

import (
	"sort"
	"sync"
	"time"

	"github.com/shardlog/shardlog"
)

// MetricsNamespace is the CloudWatch namespace of delivery streams'
// metrics, whose one dimension is DeliveryStreamName.
const MetricsNamespace = "AWS/Firehose"

// The metrics a delivery stream keeps, per minute of its clock, for three
// hours: Firehose's CloudWatch metrics. The delivery ones are named for
// the destination: DeliveryToS3.… for objects, DeliveryToHttpEndpoint.…
// for an HTTP endpoint.
const (
	mIncomingRecords   = iota // a sample per put call: its records taken
	mIncomingBytes            // and their bytes
	mDeliveryRecords          // a sample per delivery: its records
	mDeliveryBytes            // their bytes, before compression
	mDeliverySuccess          // a sample per attempt: 1 or 0
	mDeliveryFreshness        // a sample per delivery: its oldest record's age, in seconds
	numMetrics
)

var metricUnits = [numMetrics]string{"Count", "Bytes", "Count", "Bytes", "Count", "Seconds"}

// metricHistoryMinutes is how long a minute's samples are kept, as the
// account keeps Kinesis's.
const metricHistoryMinutes = 180

// metricNames are the metrics' CloudWatch names, by destination kind.
func metricNames(byRecord bool) [numMetrics]string {
	to := "DeliveryToS3."
	if byRecord {
		to = "DeliveryToHttpEndpoint."
	}
	return [numMetrics]string{"IncomingRecords", "IncomingBytes", to + "Records", to + "Bytes", to + "Success", to + "DataFreshness"}
}

type stat struct{ n, sum, min, max float64 }

func (s *stat) add(v float64) {
	if s.n == 0 || v < s.min {
		s.min = v
	}
	if s.n == 0 || v > s.max {
		s.max = v
	}
	s.n++
	s.sum += v
}

type metricHistory struct {
	mu      sync.Mutex
	minutes map[int64]*[numMetrics]stat
}

// note adds samples at t of the metrics from first on, one value each,
// in the order of the constants: a call's samples under one lock.
func (d *DeliveryStream) note(t time.Time, first int, values ...float64) {
	h := &d.metrics
	minute := t.Unix() / 60
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.minutes == nil {
		h.minutes = map[int64]*[numMetrics]stat{}
	}
	r := h.minutes[minute]
	if r == nil {
		r = new([numMetrics]stat)
		h.minutes[minute] = r
		for old := range h.minutes {
			if old <= minute-metricHistoryMinutes {
				delete(h.minutes, old)
			}
		}
	}
	for i, v := range values {
		r[first+i].add(v)
	}
}

// MetricNames names the delivery stream's metrics that have samples.
func (d *DeliveryStream) MetricNames() []string {
	names := metricNames(d.byRecord())
	h := &d.metrics
	h.mu.Lock()
	defer h.mu.Unlock()
	var have [numMetrics]bool
	for _, r := range h.minutes {
		for m := range r {
			have[m] = have[m] || r[m].n > 0
		}
	}
	var out []string
	for m, ok := range have {
		if ok {
			out = append(out, names[m])
		}
	}
	return out
}

// MetricStatistics summarizes the metric name (CloudWatch's, as
// MetricNames gives them) per period from start (inclusive, from its
// minute) to end (exclusive), as CloudWatch's GetMetricStatistics does:
// one datapoint per period with samples, in time order. ok is false for a
// metric the delivery stream does not keep. period is a positive multiple
// of a minute.
func (d *DeliveryStream) MetricStatistics(name string, start, end time.Time, period time.Duration) (points []shardlog.Datapoint, ok bool) {
	names, m := metricNames(d.byRecord()), -1
	for i, n := range names {
		if n == name {
			m = i
		}
	}
	if m < 0 || period < time.Minute || period%time.Minute != 0 {
		return nil, m >= 0
	}
	first, per := start.Unix()/60, int64(period/time.Minute)
	buckets := map[int64]*stat{}
	h := &d.metrics
	h.mu.Lock()
	for minute, r := range h.minutes {
		if minute < first || time.Unix(minute*60, 0).Compare(end) >= 0 || r[m].n == 0 {
			continue
		}
		p := first + (minute-first)/per*per
		b := buckets[p]
		if b == nil {
			b = &stat{min: r[m].min, max: r[m].max}
			buckets[p] = b
		}
		b.n, b.sum = b.n+r[m].n, b.sum+r[m].sum
		b.min, b.max = min(b.min, r[m].min), max(b.max, r[m].max)
	}
	h.mu.Unlock()
	for p, b := range buckets {
		points = append(points, shardlog.Datapoint{Timestamp: time.Unix(p*60, 0).UTC(), SampleCount: b.n, Sum: b.sum,
			Average: b.sum / b.n, Minimum: b.min, Maximum: b.max, Unit: metricUnits[m]})
	}
	sort.Slice(points, func(i, j int) bool { return points[i].Timestamp.Before(points[j].Timestamp) })
	return points, true
}

func (d *DeliveryStream) byRecord() bool {
	_, ok := d.cfg.Destination.(RecordDestination)
	return ok
}
