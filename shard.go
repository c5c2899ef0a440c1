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
	"github.com/shardlog/shardlog/internal/segfile"
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
	crypto      *streamCrypto // the stream's data keys
	usage       [2]*usage     // the stream's and the account's, if they are bounded
	throttleMsg string        // the ProvisionedThroughputExceeded message

	seg    segment.Segment
	read   *readLimiter
	trimAt atomic.Int64 // Unix ms at which the oldest live record expires; written under mu

	retiring bool // a reshard in progress will close it; guarded by the stream's mu

	// Set once, under mu, when the shard closes; read after closed.Load(),
	// which also says that every record of the shard is published.
	closedAt time.Time
	children []*shard
	closed   atomic.Bool

	files *shardFiles // its files, in a durable account; nil in memory
	sync  syncPolicy  // when appends become durable (durable accounts)

	mu         sync.Mutex // guards the appends to seg and the fields below
	frozen     bool       // no more appends: the shard is closing or closed
	lastMillis int64      // arrival time of the newest record; keeps times monotone
	pendBytes  int64      // appended, not yet counted in the usage totals
	pendRecs   int64
	taken      shardTraffic      // appended since it was opened, for on-demand scaling
	load       *loadMeter        // this minute's appends, for ShardLoads; nil until the first
	waiters    []chan<- struct{} // signalled on the next publish, then forgotten
	write      writeLimiter
	durability durability // SyncAlways's group commit
	sealing    *sealer    // scratch for sealing records (made when a record of an encrypted stream is)
	wmeter     writeMeter // this minute's writes, for the metrics

	rmeter readMeter   // this minute's reads, for the metrics
	meters shardMeters // where the meters fold to
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
		crypto:      &s.crypto,
		usage:       [2]*usage{counted(&s.live, cfg.bound), counted(&s.acct.live, cfg.accountBound)},
		throttleMsg: "Rate exceeded for shard " + id + " in stream " + s.name + " under account " + cfg.accountID + ".",
		read:        newReadLimiter(cfg.limits),
		write:       newWriteLimiter(cfg.limits, cfg.maxRecordSize),
		meters:      shardMeters{history: &s.metrics, enhanced: &s.enhanced},
	}
	sh.trimAt.Store(never)
	if st := s.acct.store; st != nil {
		sh.sync = st.policy.kind
		sh.files = st.newShardFiles(s, sh)
		sh.seg.Init(segment.Options{Storage: sh.files, MaxSlab: st.segmentSize, Seed: segfile.FrameSeed(s.inc, index)})
	}
	return sh
}

// retentionMillis returns the stream's retention period in milliseconds.
func (sh *shard) retentionMillis() int64 { return time.Duration(sh.retention.Load()).Milliseconds() }

// count adds to the usage totals of the stream and the account, those
// that a size bound needs.
func (sh *shard) count(bytes, records int64) {
	for _, u := range sh.usage {
		if u != nil {
			u.add(bytes, records)
		}
	}
}

// counted returns u if bound b needs it counted: counting costs a Put two
// contended atomic adds.
func counted(u *usage, b SizeBound) *usage {
	if b == (SizeBound{}) {
		return nil
	}
	return u
}

// shardID formats a shard index as Kinesis does: shardId-000000000007.
func shardID(index uint32) string {
	return fmt.Sprintf("shardId-%012d", index)
}

// resolveShardID reads a shard ID given as input the way Kinesis reads it:
// the digits between the first and a second '-', or the whole ID if it has
// no '-', name the index, up to 2^31-1. So "shardId-5", "5" and "x-0005"
// all mean shardId-000000000005, while "shardId-", "a-b-5" and "2.14E4"
// name no shard.
func resolveShardID(id string) (uint32, bool) {
	digits := id
	if _, rest, found := strings.Cut(id, "-"); found {
		if first, _, _ := strings.Cut(rest, "-"); first != "" {
			digits = first
		}
	}
	if digits == "" || !allDigits(digits) {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	return uint32(n), err == nil && n <= math.MaxInt32
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
	return SequenceNumber{n: seqnum.Number{Stream: sh.inc, Shard: sh.index, Counter: pos + 1}}
}

func (sh *shard) startingSeq() SequenceNumber {
	return SequenceNumber{n: seqnum.Number{Stream: sh.inc, Shard: sh.index}}
}

func (sh *shard) endingSeq() SequenceNumber {
	return SequenceNumber{n: seqnum.Number{Stream: sh.inc, Shard: sh.index, Counter: math.MaxUint64}}
}

type appendStatus int

const (
	appended appendStatus = iota
	throttled
	closed
	failed // the storage failed: see the error
)

// appendLocked stores a record unless the shard is closed or over its write
// limit, or its storage fails. sh.mu is held; flushLocked must follow before
// it is released.
func (sh *shard) appendLocked(now time.Time, key string, h hashkey.Key, data []byte) (uint64, appendStatus, error) {
	if sh.frozen {
		return 0, closed, nil
	}
	if !sh.write.allow(now, len(key)+len(data)) {
		return 0, throttled, nil
	}
	ms := max(now.UnixMilli(), sh.lastMillis)
	sh.expireLocked(ms)
	size := len(key) + len(data)
	partitionKey := key // the key stored is sealed with the data, if encrypted
	var gen uint8
	if d := sh.crypto.current.Load(); d != nil {
		slab := sh.seg.SlabFor(sealedSize(key, data))
		if sh.sealing == nil {
			sh.sealing = new(sealer)
		}
		sealed, err := sh.sealing.seal(d, sh.index, slab, sh.seg.Written(), key, data)
		if err != nil {
			return 0, failed, newError(ErrInternalFailure, "Could not seal a record: %v.", err)
		}
		key, data, gen = "", sealed, d.gen
	}
	pos, err := sh.seg.Add(key, data, ms, gen)
	if err != nil {
		return 0, failed, sh.storageError(err)
	}
	sh.lastMillis = ms
	sh.pendBytes += int64(size)
	sh.pendRecs++
	sh.taken.bytes += int64(size)
	sh.taken.records++
	if sh.load == nil {
		sh.load = newLoadMeter(sh.rng)
	}
	sh.load.countLocked(ms, partitionKey, h, size)
	if sh.trimAt.Load() == never {
		sh.trimAt.Store(ms + sh.retentionMillis() + 1)
	}
	return pos, appended, nil
}

// flushLocked ends a lock hold that appended: it counts the records
// appended since the last call and, unless they must first be synced
// (SyncAlways), publishes them and wakes the readers waiting for them:
// once per lock hold, not per record. sh.mu is held.
func (sh *shard) flushLocked() {
	if sh.pendRecs != 0 {
		sh.count(sh.pendBytes, sh.pendRecs)
		sh.pendBytes, sh.pendRecs = 0, 0
	}
	if sh.sync != syncAlways {
		sh.publishLocked(sh.seg.Written())
	}
}

// publishLocked makes the records below n visible and wakes the readers
// waiting for them. sh.mu is held.
func (sh *shard) publishLocked(n uint64) {
	if n <= sh.seg.Len() {
		return
	}
	sh.seg.PublishTo(n)
	sh.wakeAllLocked()
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
// its hash range. Every record appended before it is published first (in a
// durable shard that syncs always, once it is durable; one that fails to
// sync is rolled back), so that a reader that sees the shard closed has
// seen all of it. The stream's lock is held.
func (sh *shard) close(now time.Time, children []*shard) {
	sh.mu.Lock()
	sh.frozen = true
	sh.flushLocked()
	sh.mu.Unlock()
	if sh.sync == syncAlways {
		sh.syncAll()
	}
	sh.mu.Lock()
	sh.closedAt = now
	sh.children = children
	sh.publishLocked(sh.seg.Written())
	sh.closed.Store(true)
	sh.wakeAllLocked()
	sh.mu.Unlock()
}

// wakeAllLocked signals every waiting reader. sh.mu is held.
func (sh *shard) wakeAllLocked() {
	for _, w := range sh.waiters {
		select {
		case w <- struct{}{}:
		default:
		}
	}
	clear(sh.waiters)
	sh.waiters = sh.waiters[:0]
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
// EndingSequenceNumber is the zero value while the shard is open.
type SequenceNumberRange struct {
	StartingSequenceNumber SequenceNumber
	EndingSequenceNumber   SequenceNumber
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
		SequenceNumberRange: SequenceNumberRange{StartingSequenceNumber: sh.startingSeq()},
	}
	if len(sh.parents) > 0 {
		d.ParentShardID = sh.parents[0]
	}
	if len(sh.parents) > 1 {
		d.AdjacentParentShardID = sh.parents[1]
	}
	if sh.closed.Load() {
		d.SequenceNumberRange.EndingSequenceNumber = sh.endingSeq()
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
