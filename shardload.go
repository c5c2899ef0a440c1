package shardlog

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/shardlog/shardlog/internal/hashkey"
)

// Hot shards: each shard counts, for every minute of the account's clock,
// the records and bytes it took, which partition keys took most of them,
// and a sample of the hash keys they went to. The keys are counted by a
// Space-Saving sketch of hotKeysKept counters: a key that took more than
// 1/hotKeysKept of the shard's records in the minute is always among them,
// and its count is over by at most the count it took its counter over
// with. The sample names the hash key that halves the shard's traffic,
// where a split balances it.

const (
	hotKeysKept = 8  // counters of the sketch
	hashSamples = 64 // hash keys sampled a minute, at most
	sampleEvery = 8  // one record in this many is sampled, on average
)

// loadMeter is a shard's count of one minute; guarded by the shard's mu.
type loadMeter struct {
	minute  int64
	bytes   int64
	records int64
	fps     [hotKeysKept]uint64 // the counters' keys, by their hash keys
	counts  [hotKeysKept]int64  // their records
	keys    [hotKeysKept]keyCounter
	samples []hashSample // made on the first sample
	sampled uint64       // records sampled in the minute
	skip    int32        // records to the next sample
	rng     uint64       // the sampling's random numbers
	last    *loadMinute  // the minute before, if it had traffic
}

// keyCounter is the rest of a counter: its partition key, known by its
// hash key until the key recurs (only then is the key copied: one copy
// for a hot key, none for the many keys seen once; keys with one explicit
// hash key count as one), its bytes, and what the counter held when the key
// took it.
type keyCounter struct {
	key   string
	bytes int64
	over  int64
}

// hashSample is the hash key of a sampled record and its size.
type hashSample struct {
	key  hashkey.Key
	size int64
}

// loadMinute is what a finished minute counted.
type loadMinute struct {
	minute         int64
	bytes, records int64
	keys           []KeyLoad
	splitKey       string
}

// countLocked counts a record of key (hashed to h) and size bytes taken at
// now. sh.mu is held.
func (m *loadMeter) countLocked(now time.Time, key string, h hashkey.Key, size int) {
	if minute := minuteOf(now); minute != m.minute {
		m.rotate(minute)
	}
	m.bytes += int64(size)
	m.records++
	m.countKey(key, h, int64(size))
	if m.skip--; m.skip <= 0 { // random gaps: a pattern in the keys cannot alias with them
		m.skip = 1 + int32(m.random()%(2*sampleEvery-1))
		m.sampled++
		m.sample(hashSample{h, int64(size)})
	}
}

// random returns the next of the meter's random numbers: xorshift64,
// cheap, and the same in every run for a test.
func (m *loadMeter) random() uint64 {
	m.rng ^= m.rng << 13
	m.rng ^= m.rng >> 7
	m.rng ^= m.rng << 17
	return m.rng
}

// sample keeps s in a reservoir of the minute's samples, each of which has
// the same chance to be there (Vitter's algorithm R).
func (m *loadMeter) sample(s hashSample) {
	if m.samples == nil {
		m.samples = make([]hashSample, 0, hashSamples)
	}
	if len(m.samples) < hashSamples {
		m.samples = append(m.samples, s)
		return
	}
	if j := (m.random() >> 32) * m.sampled >> 32; j < hashSamples { // in [0, sampled), without a division
		m.samples[j] = s
	}
}

func (m *loadMeter) countKey(key string, h hashkey.Key, size int64) {
	fp := h.Hi ^ h.Lo
	low, lowN := 0, m.counts[0]
	for i, f := range m.fps { // the fingerprints and counts lie apart: two cache lines to scan
		if f == fp {
			c := &m.keys[i]
			if c.key == "" {
				c.key = strings.Clone(key)
			}
			m.counts[i]++
			c.bytes += size
			return
		}
		if n := m.counts[i]; n < lowN {
			low, lowN = i, n
		}
	}
	m.fps[low], m.counts[low] = fp, lowN+1
	m.keys[low] = keyCounter{bytes: size, over: lowN}
}

// rotate finishes the minute counted and starts minute.
func (m *loadMeter) rotate(minute int64) {
	m.last = nil
	if m.records > 0 && minute == m.minute+1 {
		m.last = m.finish()
	}
	*m = loadMeter{minute: minute, last: m.last, samples: m.samples[:0], rng: uint64(minute) | 1}
}

// finish returns what the minute counted.
func (m *loadMeter) finish() *loadMinute {
	lm := &loadMinute{minute: m.minute, bytes: m.bytes, records: m.records}
	for i, c := range m.keys {
		if c.key != "" {
			lm.keys = append(lm.keys, KeyLoad{PartitionKey: c.key, Records: m.counts[i], Bytes: c.bytes, Overcount: c.over})
		}
	}
	slices.SortFunc(lm.keys, func(a, b KeyLoad) int { return int(b.Records - a.Records) })
	if len(m.samples) > 0 {
		s := slices.Clone(m.samples)
		slices.SortFunc(s, func(a, b hashSample) int { return a.key.Cmp(b.key) })
		var total, half int64
		for _, x := range s {
			total += x.size
		}
		for _, x := range s {
			if half += x.size; 2*half >= total {
				lm.splitKey = x.key.String()
				break
			}
		}
	}
	return lm
}

// lastMinute returns what the minute before now's counted, if it had
// traffic. sh.mu is held.
func (m *loadMeter) lastMinute(now time.Time) *loadMinute {
	switch want := minuteOf(now) - 1; {
	case m.minute == want && m.records > 0:
		return m.finish()
	case m.minute == want+1 && m.last != nil && m.last.minute == want:
		return m.last
	}
	return nil
}

// ShardLoad is how busy a shard was in the last full minute of the
// account's clock: what it took and served, as a share of its limits, and
// the partition keys that took most of its records.
type ShardLoad struct {
	ShardID      string
	HashKeyRange HashKeyRange
	Minute       time.Time // the start of the minute measured
	WriteBytes   int64     // data and partition keys stored
	WriteRecords int64
	ReadBytes    int64 // returned by GetRecords
	ReadRecords  int64
	// WriteUtilization and ReadUtilization are the shares of the shard's
	// write and GetRecords limits used in the minute (for writes, the
	// larger of the bytes' and the records'); with no limits (WithoutLimits),
	// of AWS's.
	WriteUtilization float64
	ReadUtilization  float64
	// HotKeys are the partition keys that took most of the minute's
	// records, most first: every key that took more than an eighth is
	// here (keys seen only once are not).
	HotKeys []KeyLoad
	// SplitKey is the hash key that halves the minute's write traffic, by
	// a sample of the records' hash keys: where SplitShard balances the
	// shard ("" without traffic).
	SplitKey string
}

// KeyLoad is a partition key's share of a shard's minute.
type KeyLoad struct {
	PartitionKey string
	Records      int64 // at most Overcount more than it took
	Bytes        int64 // of the records counted since it was last counted
	Overcount    int64
}

// ShardLoads reports the load of each open shard in the last full minute
// of the account's clock, in hash key order: the question to ask when
// WriteProvisionedThroughputExceeded rises. It is not a Kinesis operation;
// on AWS, enhanced monitoring's shard-level metrics answer part of it. It
// needs the access DescribeStreamSummary needs, and fails as it does.
func (s *Stream) ShardLoads(ctx context.Context) ([]ShardLoad, error) {
	if _, err := s.begin(ctx, "DescribeStreamSummary"); err != nil {
		return nil, err
	}
	now := s.acct.cfg.clock.Now()
	limits, aws := s.acct.cfg.limits, AWSLimits()
	wb, wr, rb := limits.WriteBytesPerSecond, limits.WriteRecordsPerSecond, limits.ReadBytesPerSecond
	if wb <= 0 {
		wb = aws.WriteBytesPerSecond
	}
	if wr <= 0 {
		wr = aws.WriteRecordsPerSecond
	}
	if rb <= 0 {
		rb = aws.ReadBytesPerSecond
	}
	minute := minuteOf(now) - 1
	var out []ShardLoad
	for _, sh := range s.openShards() {
		l := ShardLoad{ShardID: sh.id, HashKeyRange: sh.hashKeyRange(), Minute: time.Unix(minute*60, 0).UTC()}
		sh.mu.Lock()
		if lm := sh.load.lastMinute(now); lm != nil {
			l.WriteBytes, l.WriteRecords, l.SplitKey = lm.bytes, lm.records, lm.splitKey
			l.HotKeys = slices.Clone(lm.keys)
		}
		sh.mu.Unlock()
		l.ReadBytes, l.ReadRecords = sh.readsIn(minute)
		l.WriteUtilization = max(float64(l.WriteBytes)/float64(60*wb), float64(l.WriteRecords)/float64(60*wr))
		l.ReadUtilization = float64(l.ReadBytes) / float64(60*rb)
		out = append(out, l)
	}
	return out, nil
}

// readsIn returns the bytes and records GetRecords returned from the shard
// in minute.
func (sh *shard) readsIn(minute int64) (bytes, records int64) {
	m := &sh.rmeter
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.minute == minute {
		bytes, records = int64(m.bytes.sum), int64(m.records.sum)
	}
	if m.last.minute == minute { // folded already, all or part
		bytes, records = bytes+m.last.bytes, records+m.last.records
	}
	return bytes, records
}
