package shardlog

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shardlog/shardlog/internal/hashkey"
	"github.com/shardlog/shardlog/internal/segment"
	"github.com/shardlog/shardlog/internal/seqnum"
)

// shard is one append-only segment of a stream with its hash range and
// limiters. Records are addressed by position; position p has sequence
// number counter p+1, so counter 0 is the shard's StartingSequenceNumber and
// sorts before every record.
//
// A shard holds what it needs from its stream, given at birth, rather than
// a pointer back to the stream.
type shard struct {
	inc     uint32 // the stream's incarnation, for sequence numbers
	index   uint32
	id      string
	rng     hashkey.Range
	created time.Time
	parents []string // ParentShardId, then AdjacentParentShardId if any; fixed at birth

	retention   *atomic.Int64 // the stream's retention period, in nanoseconds
	usage       [2]*usage     // the stream's and the account's, counting this shard's records
	throttleMsg string        // the ProvisionedThroughputExceeded message

	seg    segment.Segment
	read   *readLimiter
	trimAt atomic.Int64 // Unix ms at which the oldest live record expires; written under mu

	retiring bool // a reshard in progress will close it; guarded by the stream's mu

	// Set once, under mu, when the shard closes; read after closed.Load().
	closedAt time.Time
	children []*shard
	closed   atomic.Bool

	mu         sync.Mutex // guards the appends to seg and the fields below
	lastMillis int64      // arrival time of the newest record; keeps times monotone
	pendBytes  int64      // appended, not yet counted in the usage totals
	pendRecs   int64
	waiters    []chan<- struct{} // signalled on the next publish, then forgotten
	write      writeLimiter
}

func newShard(s *Stream, index uint32, r hashkey.Range, now time.Time, parents ...string) *shard {
	cfg := &s.acct.cfg
	id := shardID(index)
	sh := &shard{
		inc:         s.inc,
		index:       index,
		id:          id,
		rng:         r,
		created:     now,
		parents:     parents,
		retention:   &s.retentionNanos,
		usage:       [2]*usage{&s.live, &s.acct.live},
		throttleMsg: "Rate exceeded for shard " + id + " in stream " + s.name + " under account " + cfg.accountID + ".",
		read:        newReadLimiter(cfg.limits),
		write:       newWriteLimiter(cfg.limits, cfg.maxRecordSize),
	}
	sh.trimAt.Store(never)
	return sh
}

// retentionMillis returns the stream's retention period in milliseconds.
func (sh *shard) retentionMillis() int64 { return time.Duration(sh.retention.Load()).Milliseconds() }

// count adds to the usage totals of the stream and the account.
func (sh *shard) count(bytes, records int64) {
	sh.usage[0].add(bytes, records)
	sh.usage[1].add(bytes, records)
}

// shardID formats a shard index as Kinesis does: shardId-000000000007.
func shardID(index uint32) string {
	return fmt.Sprintf("shardId-%012d", index)
}

// parseShardIndex reads the index out of a shard ID of our form.
func parseShardIndex(id string) (uint32, bool) {
	digits, ok := strings.CutPrefix(id, "shardId-")
	if !ok || len(digits) != 12 || !allDigits(digits) {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	return uint32(n), err == nil
}

func (sh *shard) seq(pos uint64) SequenceNumber {
	return SequenceNumber{seqnum.Number{Stream: sh.inc, Shard: sh.index, Counter: pos + 1}}
}

func (sh *shard) startingSeq() SequenceNumber {
	return SequenceNumber{seqnum.Number{Stream: sh.inc, Shard: sh.index}}
}

func (sh *shard) endingSeq() SequenceNumber {
	return SequenceNumber{seqnum.Number{Stream: sh.inc, Shard: sh.index, Counter: math.MaxUint64}}
}

type appendStatus int

const (
	appended appendStatus = iota
	throttled
	closed
)

// appendLocked stores a record unless the shard is closed or over its write
// limit. sh.mu is held.
func (sh *shard) appendLocked(now time.Time, key string, data []byte) (uint64, appendStatus) {
	if sh.closed.Load() {
		return 0, closed
	}
	if !sh.write.allow(now, len(key)+len(data)) {
		return 0, throttled
	}
	ms := max(now.UnixMilli(), sh.lastMillis)
	sh.expireLocked(ms)
	sh.lastMillis = ms
	pos := sh.seg.Add(key, data, ms) // published by publishLocked
	sh.pendBytes += int64(len(key) + len(data))
	sh.pendRecs++
	if sh.trimAt.Load() == never {
		sh.trimAt.Store(ms + sh.retentionMillis() + 1)
	}
	return pos, appended
}

// publishLocked makes the records appended since the last call visible and
// counted, and wakes the readers waiting for them: once per lock hold, not
// per record. sh.mu is held.
func (sh *shard) publishLocked() {
	sh.seg.Publish()
	if sh.pendRecs != 0 {
		sh.count(sh.pendBytes, sh.pendRecs)
		sh.pendBytes, sh.pendRecs = 0, 0
	}
	for _, w := range sh.waiters {
		select {
		case w <- struct{}{}:
		default: // signalled already
		}
	}
	clear(sh.waiters)
	sh.waiters = sh.waiters[:0]
}

// tail returns the shard's published length and whether it is final: the
// shard was closed before the length was read, so no record follows it.
func (sh *shard) tail() (n uint64, final bool) {
	final = sh.closed.Load() // first: closing publishes every append before it
	return sh.seg.Len(), final
}

// await asks for a signal on ch (which must have room for one) once the
// shard has a record at pos or is closed. It reports false, and asks
// nothing, if that is so already. A reader reuses one channel for all its
// waits, on any number of shards, so waiting allocates nothing; a signal may
// be stale, and the reader then simply looks again.
func (sh *shard) await(pos uint64, ch chan<- struct{}) bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.seg.Len() > pos || sh.closed.Load() {
		return false
	}
	if !slices.Contains(sh.waiters, ch) {
		sh.waiters = append(sh.waiters, ch)
	}
	return true
}

// unawait withdraws ch, for a reader that stops waiting.
func (sh *shard) unawait(ch chan<- struct{}) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i := slices.Index(sh.waiters, ch); i >= 0 {
		sh.waiters = slices.Delete(sh.waiters, i, i+1)
	}
}

// close ends the shard's writes; children lists the shards that continue
// its hash range. The stream's lock is held.
func (sh *shard) close(now time.Time, children []*shard) {
	sh.mu.Lock()
	sh.closedAt = now
	sh.children = children
	sh.closed.Store(true)
	sh.publishLocked()
	sh.mu.Unlock()
}

func (sh *shard) throttleError() *Error {
	return &Error{Code: ErrProvisionedThroughputExceeded.Code, Message: sh.throttleMsg, Retryable: true}
}

// HashKeyRange is a shard's inclusive range of hash keys, in decimal.
type HashKeyRange struct {
	StartingHashKey string
	EndingHashKey   string
}

// SequenceNumberRange is the range of a shard's sequence numbers.
// EndingSequenceNumber is empty while the shard is open.
type SequenceNumberRange struct {
	StartingSequenceNumber string
	EndingSequenceNumber   string
}

// Shard describes a shard, as ListShards does.
type Shard struct {
	ShardID               string
	ParentShardID         string // empty if none
	AdjacentParentShardID string // empty unless the shard came from a merge
	HashKeyRange          HashKeyRange
	SequenceNumberRange   SequenceNumberRange
}

func (sh *shard) describe() Shard {
	d := Shard{
		ShardID:             sh.id,
		HashKeyRange:        sh.hashKeyRange(),
		SequenceNumberRange: SequenceNumberRange{StartingSequenceNumber: sh.startingSeq().String()},
	}
	if len(sh.parents) > 0 {
		d.ParentShardID = sh.parents[0]
	}
	if len(sh.parents) > 1 {
		d.AdjacentParentShardID = sh.parents[1]
	}
	if sh.closed.Load() {
		d.SequenceNumberRange.EndingSequenceNumber = sh.endingSeq().String()
	}
	return d
}

func (sh *shard) hashKeyRange() HashKeyRange {
	return HashKeyRange{StartingHashKey: sh.rng.Start.String(), EndingHashKey: sh.rng.End.String()}
}

// ChildShard is a shard that continues a closed shard's hash range, as
// reported at the end of the closed shard.
type ChildShard struct {
	ShardID      string
	ParentShards []string
	HashKeyRange HashKeyRange
}

func (sh *shard) childShards() []ChildShard {
	out := make([]ChildShard, 0, len(sh.children))
	for _, c := range sh.children {
		out = append(out, ChildShard{ShardID: c.id, ParentShards: slices.Clone(c.parents), HashKeyRange: c.hashKeyRange()})
	}
	return out
}
