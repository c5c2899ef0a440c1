package shardlog

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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

// writeMeter tallies a shard's writes in one minute; guarded by the
// shard's mu.
type writeMeter struct {
	minute int64
	// PutRecord calls: the bytes of those that stored their record; how
	// many were throttled or failed; the latency of those that waited
	// (the others took no measurable time).
	put                    stat
	putThrottled, putFails int64
	putWaited              stat
	// PutRecords calls, while enhanced monitoring is on: per call, the
	// bytes and records stored in this shard and the records throttled.
	batchBytes, batchRecords, batchThrottled stat
}

// readMeter tallies a shard's GetRecords calls in one minute.
type readMeter struct {
	mu sync.Mutex
	readTally
}

type readTally struct {
	minute int64
	// Calls that read: bytes, records, iterator age, latency; calls
	// throttled; calls that failed otherwise.
	bytes, records, age, latency stat
	throttled, failed            int64
}

// eventMeter tallies a subscription's events in one minute: bytes,
// records and MillisBehindLatest of each.
type eventMeter struct {
	mu sync.Mutex
	eventTally
}

type eventTally struct {
	minute                 int64
	bytes, records, behind stat
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

// records calls f with the record of minute m and with the totals. h.mu
// is held.
func (h *metricsHistory) recordsLocked(m int64, f func(*minuteRecord)) {
	i, found := slices.BinarySearchFunc(h.minutes, m, func(r *minuteRecord, m int64) int {
		switch {
		case r.minute < m:
			return -1
		case r.minute > m:
			return 1
		}
		return 0
	})
	if !found {
		if len(h.minutes) > 0 && m < h.minutes[len(h.minutes)-1].minute-int64(metricsWindow/time.Minute) {
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

func (h *metricsHistory) record(m int64, f func(*minuteRecord)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recordsLocked(m, f)
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

// meterPutLocked tallies a PutRecord call's outcome. sh.mu is held.
func (sh *shard) meterPutLocked(now time.Time, st appendStatus, bytes int, waited time.Duration) {
	m := &sh.wmeter
	if minute := minuteOf(now); minute != m.minute {
		sh.foldWritesLocked()
		m.minute = minute
	}
	switch st {
	case appended:
		m.put.add(float64(bytes))
	case throttled:
		m.putThrottled++
	default:
		m.putFails++
	}
	if waited > 0 {
		m.putWaited.add(millis(waited))
	}
}

// meterBatchLocked tallies one PutRecords call's share of the shard, for
// enhanced monitoring. sh.mu is held.
func (sh *shard) meterBatchLocked(now time.Time, t *batchTally) {
	m := &sh.wmeter
	if minute := minuteOf(now); minute != m.minute {
		sh.foldWritesLocked()
		m.minute = minute
	}
	if t.records > 0 {
		m.batchBytes.add(float64(t.bytes))
		m.batchRecords.add(float64(t.records))
	}
	m.batchThrottled.add(float64(t.throttled))
}

// batchTally counts a PutRecords call's records in one shard.
type batchTally struct {
	sh                        *shard
	bytes, records, throttled int
}

func (t *batchTally) add(st appendStatus, bytes int) {
	switch st {
	case appended:
		t.bytes += bytes
		t.records++
	case throttled:
		t.throttled++
	}
}

// tallyOf returns the index of sh's tally, adding one if it has none.
func tallyOf(tallies []batchTally, sh *shard) ([]batchTally, int) {
	for i := range tallies {
		if tallies[i].sh == sh {
			return tallies, i
		}
	}
	return append(tallies, batchTally{sh: sh}), len(tallies)
}

// waited returns how long a call that began at start has taken, if timed;
// else 0, sparing the hot path a reading of the clock.
func (s *Stream) waited(start time.Time, timed bool) time.Duration {
	if !timed {
		return 0
	}
	return s.acct.cfg.clock.Now().Sub(start)
}

// statusOf is the append status of a call that failed with err, or not.
func statusOf(err error) appendStatus {
	if err != nil {
		return failed
	}
	return appended
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// foldWritesLocked moves the write meter into the stream's history. sh.mu
// is held.
func (sh *shard) foldWritesLocked() {
	m := &sh.wmeter
	calls := m.put.n + m.putThrottled + m.putFails
	if calls == 0 && m.batchThrottled.n == 0 {
		return
	}
	on := sh.meters.enhanced.Load()
	sh.meters.history.record(m.minute, func(r *minuteRecord) {
		st := &r.stream
		st[mIncomingBytes].merge(m.put)
		st[mIncomingRecords].addN(1, m.put.n)
		st[mPutRecordBytes].merge(m.put)
		st[mPutRecordSuccess].addN(1, m.put.n)
		st[mPutRecordSuccess].addN(0, m.putThrottled+m.putFails)
		st[mPutRecordLatency].merge(m.putWaited)
		st[mPutRecordLatency].addN(0, calls-m.putWaited.n)
		st[mWriteThrottled].addN(0, m.put.n+m.putFails)
		st[mWriteThrottled].addN(1, m.putThrottled)
		if on == 0 {
			return
		}
		var ss [numShardMetrics]stat
		ss[sIncomingBytes].merge(m.put)
		ss[sIncomingBytes].merge(m.batchBytes)
		ss[sIncomingRecords].addN(1, m.put.n)
		ss[sIncomingRecords].merge(m.batchRecords)
		ss[sWriteThrottled].addN(0, m.put.n+m.putFails)
		ss[sWriteThrottled].addN(1, m.putThrottled)
		ss[sWriteThrottled].merge(m.batchThrottled)
		mergeShard(r, sh.index, &ss, on)
	})
	*m = writeMeter{minute: m.minute}
}

// mergeShard adds the shard-level metrics that are on to r.
func mergeShard(r *minuteRecord, index uint32, ss *[numShardMetrics]stat, on uint32) {
	var dst *[numShardMetrics]stat
	for i := range ss {
		if on&(1<<i) == 0 || ss[i].n == 0 {
			continue
		}
		if dst == nil {
			dst = r.shard(index)
		}
		dst[i].merge(ss[i])
	}
}

// meterRead tallies a GetRecords call on the shard: its bytes, records
// and iterator age if it read, whether it was throttled otherwise.
func (sh *shard) meterRead(now time.Time, err error, throttled bool, bytes, records int, age int64, latency time.Duration) {
	m := &sh.rmeter
	m.mu.Lock()
	defer m.mu.Unlock()
	if minute := minuteOf(now); minute != m.minute {
		sh.foldReadsLocked()
		m.minute = minute
	}
	switch {
	case throttled:
		m.throttled++
	case err != nil:
		m.failed++
	default:
		m.bytes.add(float64(bytes))
		m.records.add(float64(records))
		m.age.add(float64(age))
		m.latency.add(millis(latency))
	}
}

// foldReadsLocked moves the read meter into the stream's history.
// sh.rmeter.mu is held.
func (sh *shard) foldReadsLocked() {
	m := &sh.rmeter
	if m.bytes.n+m.throttled+m.failed == 0 {
		return
	}
	on := sh.meters.enhanced.Load()
	sh.meters.history.record(m.minute, func(r *minuteRecord) {
		st := &r.stream
		st[mGetRecordsBytes].merge(m.bytes)
		st[mGetRecordsRecords].merge(m.records)
		st[mGetRecordsIteratorAge].merge(m.age)
		st[mGetRecordsLatency].merge(m.latency)
		st[mGetRecordsSuccess].addN(1, m.bytes.n)
		st[mGetRecordsSuccess].addN(0, m.throttled+m.failed)
		st[mReadThrottled].addN(0, m.bytes.n+m.failed)
		st[mReadThrottled].addN(1, m.throttled)
		if on == 0 {
			return
		}
		var ss [numShardMetrics]stat
		ss[sOutgoingBytes].merge(m.bytes)
		ss[sOutgoingRecords].merge(m.records)
		ss[sIteratorAge].merge(m.age)
		ss[sReadThrottled].addN(0, m.bytes.n+m.failed)
		ss[sReadThrottled].addN(1, m.throttled)
		mergeShard(r, sh.index, &ss, on)
	})
	m.readTally = readTally{minute: m.minute}
}

// meterEvent tallies an event the subscription delivered.
func (sub *Subscription) meterEvent(now time.Time, bytes, records int, behind int64) {
	m := &sub.meter
	m.mu.Lock()
	defer m.mu.Unlock()
	if minute := minuteOf(now); minute != m.minute {
		sub.foldEventsLocked()
		m.minute = minute
	}
	m.bytes.add(float64(bytes))
	m.records.add(float64(records))
	m.behind.add(float64(behind))
}

// foldEventsLocked moves the event meter into the stream's history.
// sub.meter.mu is held.
func (sub *Subscription) foldEventsLocked() {
	m := &sub.meter
	if m.bytes.n == 0 {
		return
	}
	s, sh := sub.stream, sub.sh
	on := s.monitored()
	s.metrics.record(m.minute, func(r *minuteRecord) {
		c := r.consumer(sub.consumer.name)
		c[cEventBytes].merge(m.bytes)
		c[cEventRecords].merge(m.records)
		c[cEventMillisBehind].merge(m.behind)
		c[cEventSuccess].addN(1, m.bytes.n)
		if on != 0 {
			var ss [numShardMetrics]stat
			ss[sOutgoingBytes].merge(m.bytes)
			ss[sOutgoingRecords].merge(m.records)
			mergeShard(r, sh.index, &ss, on)
		}
	})
	m.eventTally = eventTally{minute: m.minute}
}

func (sub *Subscription) foldEvents() {
	sub.meter.mu.Lock()
	defer sub.meter.mu.Unlock()
	sub.foldEventsLocked()
}

// meterSubscribe tallies a SubscribeToShard call that found its consumer:
// established, refused for the rate (another subscription to the shard
// started less than five seconds ago), or failed otherwise.
func (s *Stream) meterSubscribe(now time.Time, consumer string, err error, rateExceeded bool) {
	s.metrics.record(minuteOf(now), func(r *minuteRecord) {
		c := r.consumer(consumer)
		if err == nil {
			c[cSubscribeSuccess].add(1)
		} else {
			c[cSubscribeSuccess].add(0)
		}
		if rateExceeded {
			c[cSubscribeRateExceeded].add(1)
		} else {
			c[cSubscribeRateExceeded].add(0)
		}
	})
}

// meterPutBatch tallies a PutRecords call: per call, the bytes and
// records stored, and the records that failed and were throttled.
func (s *Stream) meterPutBatch(now time.Time, records []PutInput, out *BatchResult, latency time.Duration) {
	var okBytes, ok, throttled int
	for i := range out.Records {
		switch out.Records[i].ErrorCode {
		case "":
			okBytes += len(records[i].PartitionKey) + len(records[i].Data)
			ok++
		case ErrProvisionedThroughputExceeded.Code:
			throttled++
		}
	}
	failed := len(records) - ok - throttled
	s.metrics.record(minuteOf(now), func(r *minuteRecord) {
		st := &r.stream
		if ok > 0 {
			st[mIncomingBytes].add(float64(okBytes))
			st[mIncomingRecords].add(float64(ok))
			st[mPutRecordsSuccess].add(1)
		} else {
			st[mPutRecordsSuccess].add(0)
		}
		st[mPutRecordsBytes].add(float64(okBytes))
		st[mPutRecordsLatency].add(millis(latency))
		st[mPutRecordsRecords].add(float64(ok))
		st[mPutRecordsSuccessfulRecords].add(float64(ok))
		st[mPutRecordsFailedRecords].add(float64(failed))
		st[mPutRecordsThrottledRecords].add(float64(throttled))
		st[mPutRecordsTotalRecords].add(float64(len(records)))
		st[mWriteThrottled].add(float64(throttled))
	})
}

// foldMeters moves every meter of the stream into its history, so that a
// query sees the current minute too.
func (s *Stream) foldMeters() {
	s.mu.RLock()
	shards := s.shards
	var subs []*Subscription
	for _, c := range s.consumers {
		for _, sub := range c.subs {
			subs = append(subs, sub)
		}
	}
	s.mu.RUnlock()
	for _, sh := range shards {
		sh.foldMeters()
	}
	for _, sub := range subs {
		sub.foldEvents()
	}
}

func (sh *shard) foldMeters() {
	sh.mu.Lock()
	sh.foldWritesLocked()
	sh.mu.Unlock()
	sh.rmeter.mu.Lock()
	sh.foldReadsLocked()
	sh.rmeter.mu.Unlock()
}

// shardMeters is what a shard's meters need of their stream: its
// history, and which shard-level metrics are on.
type shardMeters struct {
	history  *metricsHistory
	enhanced *atomic.Uint32
}

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
// calls throttled. Buckets are minutes of the account's clock, kept three
// hours. Latencies count only the time a call waited (for a sync, a
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
	out := MetricStatisticsOutput{Label: in.MetricName}
	s, err := a.Stream(StreamRef{StreamName: q.stream})
	if err != nil {
		return out, nil
	}
	s.foldMeters()
	start, end := minuteOf(in.StartTime), minuteOf(in.EndTime.Add(-time.Nanosecond))
	if in.EndTime.Add(-time.Nanosecond).Before(in.StartTime) {
		return out, nil
	}
	step := int64(in.Period / time.Minute)
	h := &s.metrics
	h.mu.Lock()
	defer h.mu.Unlock()
	var cur *Datapoint
	var acc stat
	flush := func() {
		if cur != nil && acc.n > 0 {
			cur.SampleCount, cur.Sum, cur.Minimum, cur.Maximum = float64(acc.n), acc.sum, acc.min, acc.max
			cur.Average = acc.sum / float64(acc.n)
			out.Datapoints = append(out.Datapoints, *cur)
		}
		cur, acc = nil, stat{}
	}
	var period int64 = -1
	for _, r := range h.minutes {
		if r.minute < start || r.minute > end {
			continue
		}
		st, ok := q.stat(r)
		if !ok || st.n == 0 {
			continue
		}
		if p := (r.minute - start) / step; p != period {
			flush()
			period = p
			cur = &Datapoint{Timestamp: time.Unix((start+p*step)*60, 0).UTC(), Unit: q.def.unit}
		}
		acc.merge(st)
	}
	flush()
	return out, nil
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
	var out []MetricTotal
	streams := a.streamList()
	slices.SortFunc(streams, func(x, y *Stream) int { return strings.Compare(x.name, y.name) })
	for _, s := range streams {
		s.foldMeters()
		out = s.appendTotals(out)
	}
	return out, nil
}

func (s *Stream) appendTotals(out []MetricTotal) []MetricTotal {
	h := &s.metrics
	h.mu.Lock()
	defer h.mu.Unlock()
	t := &h.total
	stream := Dimension{dimStream, s.name}
	for i, st := range t.stream {
		if st.n > 0 {
			out = append(out, MetricTotal{streamMetrics[i].name, []Dimension{stream}, streamMetrics[i].unit, st.sum, st.n})
		}
	}
	shards := make([]uint32, 0, len(t.shards))
	for i := range t.shards {
		shards = append(shards, i)
	}
	slices.Sort(shards)
	for _, sh := range shards {
		for i, st := range t.shards[sh] {
			if st.n > 0 {
				out = append(out, MetricTotal{shardMetrics[i].name, []Dimension{stream, {dimShard, shardID(sh)}}, shardMetrics[i].unit, st.sum, st.n})
			}
		}
	}
	consumers := make([]string, 0, len(t.consumers))
	for name := range t.consumers {
		consumers = append(consumers, name)
	}
	slices.Sort(consumers)
	for _, name := range consumers {
		for i, st := range t.consumers[name] {
			if st.n > 0 {
				out = append(out, MetricTotal{consumerMetrics[i].name, []Dimension{stream, {dimConsumer, name}}, consumerMetrics[i].unit, st.sum, st.n})
			}
		}
	}
	return out
}
