package shardlog

import (
	"sync"
	"sync/atomic"
	"time"
)

// The meters of the hot paths, and how they fold into a stream's history.

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
	last readTotals // folded into the history, for ShardLoads
}

// readTotals are the bytes and records read from a shard in a minute.
type readTotals struct{ minute, bytes, records int64 }

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
		st[mPutRecordSuccess].addOutcomes(m.put.n, m.putThrottled+m.putFails)
		st[mPutRecordLatency].merge(m.putWaited)
		st[mPutRecordLatency].addN(0, calls-m.putWaited.n)
		st[mWriteThrottled].addOutcomes(m.putThrottled, m.put.n+m.putFails)
		if on == 0 {
			return
		}
		var ss [numShardMetrics]stat
		ss[sIncomingBytes].merge(m.put)
		ss[sIncomingBytes].merge(m.batchBytes)
		ss[sIncomingRecords].addN(1, m.put.n)
		ss[sIncomingRecords].merge(m.batchRecords)
		ss[sWriteThrottled].addOutcomes(m.putThrottled, m.put.n+m.putFails)
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

// meterExpired counts a GetRecords call refused for its expired iterator
// as a failed call on the iterator's shard, if it is one of this stream's.
func (s *Stream) meterExpired(it iterator, now time.Time, err error) {
	if it.inc != s.inc || it.stream != s.name {
		return
	}
	if sh := s.shardAt(it.shard); sh != nil {
		sh.meterRead(now, err, false, 0, 0, 0, 0)
	}
}

// foldReadsLocked moves the read meter into the stream's history.
// sh.rmeter.mu is held.
func (sh *shard) foldReadsLocked() {
	m := &sh.rmeter
	if m.bytes.n+m.throttled+m.failed == 0 {
		return
	}
	if m.last.minute != m.minute {
		m.last = readTotals{minute: m.minute}
	}
	m.last.bytes += int64(m.bytes.sum)
	m.last.records += int64(m.records.sum)
	on := sh.meters.enhanced.Load()
	sh.meters.history.record(m.minute, func(r *minuteRecord) {
		st := &r.stream
		st[mGetRecordsBytes].merge(m.bytes)
		st[mGetRecordsRecords].merge(m.records)
		st[mGetRecordsIteratorAge].merge(m.age)
		st[mGetRecordsLatency].merge(m.latency)
		st[mGetRecordsSuccess].addOutcomes(m.bytes.n, m.throttled+m.failed)
		st[mReadThrottled].addOutcomes(m.throttled, m.bytes.n+m.failed)
		if on == 0 {
			return
		}
		var ss [numShardMetrics]stat
		ss[sOutgoingBytes].merge(m.bytes)
		ss[sOutgoingRecords].merge(m.records)
		ss[sIteratorAge].merge(m.age)
		ss[sReadThrottled].addOutcomes(m.throttled, m.bytes.n+m.failed)
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
func (s *Stream) meterPutBatch(now time.Time, records []PutInput, out *PutBatchOutput, latency time.Duration) {
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
