package shardlog

import (
	"fmt"
	"math"
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
type shard struct {
	stream  *Stream
	inc     uint32 // the stream's incarnation, copied here for the read path
	index   uint32
	id      string
	rng     hashkey.Range
	created time.Time
	// Lineage, fixed at birth.
	parent, adjacent string

	seg    segment.Segment
	read   *readLimiter
	trimAt atomic.Int64 // Unix ms at which the oldest live record expires; written under mu

	retiring bool // a reshard in progress will close it; guarded by stream.mu

	// Set once, under mu, when the shard closes; read after closed.Load().
	closedAt time.Time
	children []*shard
	closed   atomic.Bool

	mu         sync.Mutex // guards the appends to seg and the fields below
	lastMillis int64      // arrival time of the newest record; keeps times monotone
	pendBytes  int64      // appended, not yet counted in the stream's totals
	pendRecs   int64
	wake       chan struct{} // closed on the next append or close; nil if nobody waits
	write      writeLimiter
}

func newShard(s *Stream, index uint32, r hashkey.Range, now time.Time) *shard {
	cfg := &s.acct.cfg
	sh := &shard{
		stream:  s,
		inc:     s.inc,
		index:   index,
		id:      shardID(index),
		rng:     r,
		created: now,
		read:    newReadLimiter(cfg.limits),
		write:   newWriteLimiter(cfg.limits, cfg.maxRecordSize),
	}
	sh.trimAt.Store(never)
	return sh
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
		sh.trimAt.Store(ms + sh.stream.retention().Milliseconds() + 1)
	}
	return pos, appended
}

// publishLocked makes the records appended since the last call visible and
// counted, and wakes the readers waiting for them: once per lock hold, not
// per record. sh.mu is held.
func (sh *shard) publishLocked() {
	sh.seg.Publish()
	if sh.pendRecs != 0 {
		sh.stream.live.add(sh.pendBytes, sh.pendRecs)
		sh.stream.acct.live.add(sh.pendBytes, sh.pendRecs)
		sh.pendBytes, sh.pendRecs = 0, 0
	}
	if sh.wake != nil {
		close(sh.wake)
		sh.wake = nil
	}
}

// waitChan returns a channel that is closed once the shard has a record at
// pos or is closed; it is already closed if that is true now.
func (sh *shard) waitChan(pos uint64) <-chan struct{} {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.seg.Len() > pos || sh.closed.Load() {
		return closedChan
	}
	if sh.wake == nil {
		sh.wake = make(chan struct{})
	}
	return sh.wake
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

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

func (sh *shard) throttleMessage() string {
	return "Rate exceeded for shard " + sh.id + " in stream " + sh.stream.name + " under account " + sh.stream.acct.cfg.accountID + "."
}

func (sh *shard) throttleError() *Error {
	return &Error{Code: ErrProvisionedThroughputExceeded.Code, Message: sh.throttleMessage(), Retryable: true}
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
		ShardID:               sh.id,
		ParentShardID:         sh.parent,
		AdjacentParentShardID: sh.adjacent,
		HashKeyRange:          sh.hashKeyRange(),
		SequenceNumberRange:   SequenceNumberRange{StartingSequenceNumber: sh.startingSeq().String()},
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
		parents := []string{c.parent}
		if c.adjacent != "" {
			parents = append(parents, c.adjacent)
		}
		out = append(out, ChildShard{ShardID: c.id, ParentShards: parents, HashKeyRange: c.hashKeyRange()})
	}
	return out
}
