package shardlog

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// Every stream publishes the metrics Kinesis publishes to CloudWatch, with
// the same names, units and dimensions, in one-minute buckets on the
// account's clock; see [Account.GetMetricStatistics].
//
// The hot paths tally into meters they already own (a Put tallies under
// the shard lock it holds; a GetRecords into its shard's read meter; an
// event into its subscription's), in a compact form that expands into
// CloudWatch's metrics when a meter is folded into its stream's history:
// at the first use in a new minute, and before every query.

// MetricsNamespace is the CloudWatch namespace of Kinesis's metrics.
const MetricsNamespace = "AWS/Kinesis"

// metricsWindow is how long one-minute buckets are kept. CloudWatch keeps
// them 15 days; an emulator's users look at the last minutes, and
// [Account.MetricTotals] keeps the totals for as long as the stream lives.
const metricsWindow = 3 * time.Hour

// Dimension names.
const (
	dimStream   = "StreamName"
	dimShard    = "ShardId"
	dimConsumer = "ConsumerName"
)

// Units.
const (
	unitBytes  = "Bytes"
	unitCount  = "Count"
	unitMillis = "Milliseconds"
)

type metricDef struct{ name, unit string }

// The stream-level metrics (dimension StreamName).
const (
	mIncomingBytes = iota
	mIncomingRecords
	mPutRecordBytes
	mPutRecordLatency
	mPutRecordSuccess
	mPutRecordsBytes
	mPutRecordsLatency
	mPutRecordsRecords
	mPutRecordsSuccess
	mPutRecordsSuccessfulRecords
	mPutRecordsFailedRecords
	mPutRecordsThrottledRecords
	mPutRecordsTotalRecords
	mGetRecordsBytes
	mGetRecordsIteratorAge
	mGetRecordsLatency
	mGetRecordsRecords
	mGetRecordsSuccess
	mReadThrottled
	mWriteThrottled
	numStreamMetrics
)

var streamMetrics = [numStreamMetrics]metricDef{
	{"IncomingBytes", unitBytes},
	{"IncomingRecords", unitCount},
	{"PutRecord.Bytes", unitBytes},
	{"PutRecord.Latency", unitMillis},
	{"PutRecord.Success", unitCount},
	{"PutRecords.Bytes", unitBytes},
	{"PutRecords.Latency", unitMillis},
	{"PutRecords.Records", unitCount},
	{"PutRecords.Success", unitCount},
	{"PutRecords.SuccessfulRecords", unitCount},
	{"PutRecords.FailedRecords", unitCount},
	{"PutRecords.ThrottledRecords", unitCount},
	{"PutRecords.TotalRecords", unitCount},
	{"GetRecords.Bytes", unitBytes},
	{"GetRecords.IteratorAgeMilliseconds", unitMillis},
	{"GetRecords.Latency", unitMillis},
	{"GetRecords.Records", unitCount},
	{"GetRecords.Success", unitCount},
	{"ReadProvisionedThroughputExceeded", unitCount},
	{"WriteProvisionedThroughputExceeded", unitCount},
}

// The shard-level metrics (dimensions StreamName and ShardId), in the
// order of shardLevelMetrics: published only while enhanced monitoring
// has them on.
const (
	sIncomingBytes = iota
	sIncomingRecords
	sOutgoingBytes
	sOutgoingRecords
	sWriteThrottled
	sReadThrottled
	sIteratorAge
	numShardMetrics
)

var shardMetrics = [numShardMetrics]metricDef{
	{"IncomingBytes", unitBytes},
	{"IncomingRecords", unitCount},
	{"OutgoingBytes", unitBytes},
	{"OutgoingRecords", unitCount},
	{"WriteProvisionedThroughputExceeded", unitCount},
	{"ReadProvisionedThroughputExceeded", unitCount},
	{"IteratorAgeMilliseconds", unitMillis},
}

// The enhanced fan-out metrics (dimensions StreamName and ConsumerName).
const (
	cSubscribeRateExceeded = iota
	cSubscribeSuccess
	cEventBytes
	cEventMillisBehind
	cEventRecords
	cEventSuccess
	numConsumerMetrics
)

var consumerMetrics = [numConsumerMetrics]metricDef{
	{"SubscribeToShard.RateExceeded", unitCount},
	{"SubscribeToShard.Success", unitCount},
	{"SubscribeToShardEvent.Bytes", unitBytes},
	{"SubscribeToShardEvent.MillisBehindLatest", unitMillis},
	{"SubscribeToShardEvent.Records", unitCount},
	{"SubscribeToShardEvent.Success", unitCount},
}

// stat summarizes samples: n of them, summing to sum.
type stat struct {
	sum, min, max float64
	n             int64
}

func (s *stat) add(v float64) {
	if s.n == 0 || v < s.min {
		s.min = v
	}
	if s.n == 0 || v > s.max {
		s.max = v
	}
	s.sum += v
	s.n++
}

// addN adds n samples of value v.
func (s *stat) addN(v float64, n int64) {
	if n > 0 {
		s.merge(stat{sum: v * float64(n), min: v, max: v, n: n})
	}
}

// addOutcomes adds the samples of a yes-or-no metric (a success, a
// throttle): yes samples of 1 and no samples of 0.
func (s *stat) addOutcomes(yes, no int64) {
	s.addN(1, yes)
	s.addN(0, no)
}

func (s *stat) merge(o stat) {
	switch {
	case o.n == 0:
		return
	case s.n == 0:
		*s = o
		return
	}
	s.min, s.max = min(s.min, o.min), max(s.max, o.max)
	s.sum += o.sum
	s.n += o.n
}

// minuteOf numbers t's minute since the Unix epoch.
func minuteOf(t time.Time) int64 {
	sec := t.Unix()
	if sec < 0 {
		return (sec - 59) / 60
	}
	return sec / 60
}

// minuteRecord holds a stream's metrics of one minute (or, as the totals,
// of all minutes).
type minuteRecord struct {
	minute    int64
	stream    [numStreamMetrics]stat
	shards    map[uint32]*[numShardMetrics]stat
	consumers map[string]*[numConsumerMetrics]stat
}

func (r *minuteRecord) shard(i uint32) *[numShardMetrics]stat {
	if r.shards == nil {
		r.shards = make(map[uint32]*[numShardMetrics]stat)
	}
	m := r.shards[i]
	if m == nil {
		m = new([numShardMetrics]stat)
		r.shards[i] = m
	}
	return m
}

func (r *minuteRecord) consumer(name string) *[numConsumerMetrics]stat {
	if r.consumers == nil {
		r.consumers = make(map[string]*[numConsumerMetrics]stat)
	}
	m := r.consumers[name]
	if m == nil {
		m = new([numConsumerMetrics]stat)
		r.consumers[name] = m
	}
	return m
}

// metricsHistory is a stream's metrics: the minutes of the last
// metricsWindow, and the totals.
type metricsHistory struct {
	mu      sync.Mutex
	minutes []*minuteRecord // ascending
	total   minuteRecord
}

// recordLocked calls f with the record of minute m, made if need be, and
// with the totals. h.mu is held.
func (h *metricsHistory) recordLocked(m int64, f func(*minuteRecord)) {
	i, found := slices.BinarySearchFunc(h.minutes, m, func(r *minuteRecord, m int64) int { return cmp.Compare(r.minute, m) })
	if !found {
		if len(h.minutes) > 0 && m <= h.minutes[len(h.minutes)-1].minute-int64(metricsWindow/time.Minute) {
			f(&h.total) // older than the window: counts in the totals only
			return
		}
		h.minutes = slices.Insert(h.minutes, i, &minuteRecord{minute: m})
	}
	f(h.minutes[i])
	f(&h.total)
	h.pruneLocked()
}

// pruneLocked forgets the minutes that fell out of the window.
func (h *metricsHistory) pruneLocked() {
	newest := h.minutes[len(h.minutes)-1].minute
	drop := 0
	for drop < len(h.minutes) && h.minutes[drop].minute <= newest-int64(metricsWindow/time.Minute) {
		drop++
	}
	if drop > 0 {
		clear(h.minutes[:drop])
		h.minutes = slices.Delete(h.minutes, 0, drop)
	}
}

// forget removes from the totals what f deletes: the series of a shard or
// a consumer that is gone, so that they do not pile up.
func (h *metricsHistory) forget(f func(*minuteRecord)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(&h.total)
}

// record is recordLocked taking h.mu.
func (h *metricsHistory) record(m int64, f func(*minuteRecord)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recordLocked(m, f)
}

// monitored reports which shard-level metrics enhanced monitoring has on,
// bit i for shardMetrics[i].
func (s *Stream) monitored() uint32 { return s.enhanced.Load() }

// monitorBits maps enhanced monitoring's metric names to monitored's bits.
func monitorBits(names []string) uint32 {
	var bits uint32
	for i, d := range shardMetrics {
		if slices.Contains(names, d.name) {
			bits |= 1 << i
		}
	}
	return bits
}
