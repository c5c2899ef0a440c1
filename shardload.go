package shardlog

import (
	"context"
	"math"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/shardlog/shardlog/internal/hashkey"
)

// Hot shards: each shard that is written counts, for every minute of the
// account's clock, the records and bytes it took, which partition keys
// took most of them, and how its bytes spread over its hash key range.
// Records and bytes are counted exactly; keys and the spread, on one
// record in keySample picked at random gaps (a quarter of the cost), and
// scaled up to the minute. The keys are counted by a Space-Saving sketch of
// hotKeysKept counters: of the records it sees, a key that took more than
// 1/hotKeysKept is always among them, its count over by at most the count
// it took its counter over with. The spread, in loadBuckets equal slices
// of the range, names the hash key that halves the shard's traffic, where
// a split balances it. A shard never written holds no meter.

const (
	hotKeysKept = 8  // counters of the sketch
	keySample   = 4  // the sketch counts one record in this many, on average
	loadBuckets = 16 // slices of the hash key range
)

// loadMeter is a shard's count of one minute; guarded by the shard's mu.
type loadMeter struct {
	minute  int64
	bytes   int64
	records int64
	fps     [hotKeysKept]uint64 // the counters' keys, by their hash keys
	counts  [hotKeysKept]uint32 // their records
	over    [hotKeysKept]uint32 // what each held when its key took it
	kbytes  [hotKeysKept]uint32 // their keys' bytes since
	keys    [hotKeysKept]string // their partition keys, once recurring
	spread  [loadBuckets]uint32 // bytes by slice of the range
	rng     hashkey.Range
	scale   float64 // buckets per hash key of the range
	mult    uint64  // buckets per 2^64 of the range, in 64.64 fixed point; 0: narrow
	from    int64   // the minute counted, in Unix ms: [from, until)
	until   int64
	skip    int32       // records to the next one the sketch counts
	rand    uint64      // xorshift64 state, for the gaps
	last    *loadMinute // the minute before, if it had traffic
}

func newLoadMeter(r hashkey.Range) *loadMeter {
	width, _ := r.End.Sub(r.Start)
	m := &loadMeter{rng: r, scale: loadBuckets / (keyFloat(width) + 1), rand: 0x9e3779b97f4a7c15}
	switch {
	case width.Hi == math.MaxUint64: // the whole key space
		m.mult = loadBuckets
	case width.Hi >= 1<<8: // slices by the offset's high word, to 1/256 of a slice
		m.mult = loadBuckets * (math.MaxUint64 / (width.Hi + 1))
	}
	return m
}

// keyFloat returns k as a float64.
func keyFloat(k hashkey.Key) float64 { return float64(k.Hi)*(1<<64) + float64(k.Lo) }

// loadMinute is what a finished minute counted.
type loadMinute struct {
	minute         int64
	bytes, records int64
	keys           []KeyLoad
	splitKey       string
}

// countLocked counts a record of key (hashed to h) and size bytes taken at
// ms (Unix milliseconds). sh.mu is held.
func (m *loadMeter) countLocked(ms int64, key string, h hashkey.Key, size int) {
	if ms < m.from || ms >= m.until {
		m.rotate(minuteOf(time.UnixMilli(ms)))
	}
	m.bytes += int64(size)
	m.records++
	if m.skip--; m.skip <= 0 { // one record in keySample, at random gaps that keys cannot fall in step with
		m.rand ^= m.rand << 13
		m.rand ^= m.rand >> 7
		m.rand ^= m.rand << 17
		m.skip = 1 + int32(m.rand%(2*keySample-1))
		m.spread[m.slice(h)] += uint32(size)
		m.countKey(key, h, uint32(size))
	}
}

// slice returns which of the range's slices h falls in: by the high 64
// bits of its offset (a multiplication) where the range is wide, as
// shards' are; by floating point where it is narrow.
func (m *loadMeter) slice(h hashkey.Key) int {
	off, _ := h.Sub(m.rng.Start)
	if m.mult != 0 {
		hi, _ := bits.Mul64(off.Hi, m.mult)
		return min(int(hi), loadBuckets-1)
	}
	return min(int(keyFloat(off)*m.scale), loadBuckets-1)
}

// countKey counts key in the sketch. Keys are told apart by their hash
// keys (those put with one explicit hash key count as one), and a key is
// copied only when it recurs: one copy for a hot key, none for the many
// seen once.
func (m *loadMeter) countKey(key string, h hashkey.Key, size uint32) {
	fp := h.Hi ^ h.Lo
	low, lowN := 0, m.counts[0]
	for i, f := range m.fps { // the fingerprints and counts lie apart: two cache lines to scan
		if f == fp {
			if m.keys[i] == "" {
				m.keys[i] = strings.Clone(key)
			}
			m.counts[i]++
			m.kbytes[i] += size
			return
		}
		if n := m.counts[i]; n < lowN {
			low, lowN = i, n
		}
	}
	m.fps[low], m.counts[low], m.over[low], m.kbytes[low], m.keys[low] = fp, lowN+1, lowN, size, ""
}

// rotate finishes the minute counted and starts minute.
func (m *loadMeter) rotate(minute int64) {
	m.last = nil
	if m.records > 0 && minute == m.minute+1 {
		m.last = m.finish()
	}
	*m = loadMeter{minute: minute, last: m.last, rng: m.rng, scale: m.scale, mult: m.mult, rand: m.rand,
		from: minute * 60000, until: (minute + 1) * 60000}
}

// finish returns what the minute counted.
func (m *loadMeter) finish() *loadMinute {
	lm := &loadMinute{minute: m.minute, bytes: m.bytes, records: m.records}
	for i, key := range m.keys {
		if key != "" { // counted on a sample: scaled to the minute
			lm.keys = append(lm.keys, KeyLoad{PartitionKey: key, Records: keySample * int64(m.counts[i]), Bytes: keySample * int64(m.kbytes[i]), Overcount: keySample * int64(m.over[i])})
		}
	}
	slices.SortFunc(lm.keys, func(a, b KeyLoad) int { return int(b.Records - a.Records) })
	var total, below float64
	for _, n := range m.spread {
		total += float64(n)
	}
	for b, n := range m.spread {
		if n == 0 || 2*(below+float64(n)) < total {
			below += float64(n)
			continue
		}
		// In this slice, as far in as the half lies, its bytes taken as
		// spread evenly in it.
		at := (float64(b) + (total/2-below)/float64(n)) / m.scale
		hi := at / (1 << 64)
		k, _ := m.rng.Start.Add(hashkey.Key{Hi: uint64(hi), Lo: uint64(at - float64(uint64(hi))*(1<<64))})
		lm.splitKey = k.String()
		break
	}
	return lm
}

// lastMinute returns what the minute before now's counted, if it had
// traffic. sh.mu is held.
func (m *loadMeter) lastMinute(now time.Time) *loadMinute {
	switch want := minuteOf(now) - 1; {
	case m == nil:
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
	// records, most first, estimated from a random quarter of them: a key
	// that took more than an eighth is here but for a rare sample (keys
	// seen only once are not).
	HotKeys []KeyLoad
	// SplitKey is the hash key that halves the minute's write bytes, to a
	// sixteenth of the shard's hash key range (within which bytes are taken
	// as spread evenly): where SplitShard balances the shard ("" without
	// traffic).
	SplitKey string
}

// KeyLoad is a partition key's share of a shard's minute.
type KeyLoad struct {
	PartitionKey string
	Records      int64 // estimated: at most Overcount more than its share of the sample, scaled
	Bytes        int64 // estimated, of the records counted since it took its counter
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
	limits := s.acct.shardLimits()
	wb, wr, rb := limits.WriteBytesPerSecond, limits.WriteRecordsPerSecond, limits.ReadBytesPerSecond
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
