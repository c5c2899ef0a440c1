package shardlog

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// SizeBound caps what a stream (see [WithSizeBound]) or a whole account
// (see [WithAccountSizeBound]) holds, beyond Kinesis. A zero field is no
// limit.
type SizeBound struct {
	Bytes   int64 // key plus data bytes
	Records int64
}

func (b SizeBound) validate() error {
	if b.Bytes < 0 || b.Records < 0 {
		return fmt.Errorf("shardlog: negative size bound %+v", b)
	}
	return nil
}

// lowWater is where dropping records for b stops: a sixteenth below it.
func (b SizeBound) lowWater() SizeBound {
	return SizeBound{Bytes: b.Bytes - b.Bytes/16, Records: b.Records - b.Records/16}
}

// usage counts what a set of shards holds: a stream's, or an account's.
type usage struct {
	bytes    atomic.Int64 // key and data bytes of unexpired records
	records  atomic.Int64
	evicting sync.Mutex // held by the one goroutine dropping records for a bound
}

func (u *usage) add(bytes, records int64) {
	u.bytes.Add(bytes)
	u.records.Add(records)
}

// over reports whether u holds more than b allows.
func (u *usage) over(b SizeBound) bool {
	return (b.Bytes > 0 && u.bytes.Load() > b.Bytes) || (b.Records > 0 && u.records.Load() > b.Records)
}

// enforce drops the oldest records among shards until u is within b's low
// water mark (the bound of stream, or of account a if stream is ""), and
// counts and logs what it dropped. It takes one shard lock at a time, and only one caller
// evicts at once; the others return and let it finish. shards is called
// once per shard that gives up records; it returns shards that u counts (nil
// entries are skipped).
func (u *usage) enforce(b SizeBound, shards func() []*shard, a *Account, stream string) {
	if !u.over(b) || !u.evicting.TryLock() {
		return
	}
	defer u.evicting.Unlock()
	var records, bytes int64
	defer func() {
		// Acknowledged records go: never silently.
		a.dropped.records.Add(records)
		a.dropped.bytes.Add(bytes)
		bound := "account"
		if stream != "" {
			bound = "stream " + stream
		}
		a.cfg.log.Warn("shardlog: dropped the oldest records for a size bound", "bound", bound,
			"max_bytes", b.Bytes, "max_records", b.Records, "records", records, "bytes", bytes)
	}()
	low := b.lowWater()
	for u.over(low) {
		// The shard with the oldest live record, and the next oldest head.
		var oldest *shard
		oldestMS, nextMS := int64(never), int64(never)
		for _, sh := range shards() {
			if sh == nil {
				continue
			}
			ms, ok := sh.seg.Millis(sh.seg.Head())
			if !ok {
				continue
			}
			if ms < oldestMS {
				oldest, oldestMS, nextMS = sh, ms, oldestMS
			} else if ms < nextMS {
				nextMS = ms
			}
		}
		if oldest == nil {
			return
		}
		n, size := oldest.evict(u, low, nextMS)
		records, bytes = records+n, bytes+size
	}
}

// SizeBoundDrops counts the records that size bounds dropped (see
// [WithSizeBound], [WithAccountSizeBound]).
type SizeBoundDrops struct {
	Records int64 // records dropped
	Bytes   int64 // their key and data bytes
}

// dropCount is an account's SizeBoundDrops, counted as records go.
type dropCount struct{ records, bytes atomic.Int64 }

// SizeBoundDrops returns how many records the account's size bounds, and
// its streams', have dropped since it was opened (each drop is logged at
// warning level too).
func (a *Account) SizeBoundDrops() SizeBoundDrops {
	return SizeBoundDrops{Records: a.dropped.records.Load(), Bytes: a.dropped.bytes.Load()}
}

// evict drops sh's oldest records until u is within b or sh's head arrived
// after upTo (then another shard is older).
func (sh *shard) evict(u *usage, b SizeBound, upTo int64) (dropped, size int64) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	head, tail := sh.seg.Head(), sh.seg.Len()
	bytes, records := u.bytes.Load(), u.records.Load()
	start := bytes
	pos := head
	for pos < tail && ((b.Bytes > 0 && bytes > b.Bytes) || (b.Records > 0 && records > b.Records)) {
		if ms, _ := sh.seg.Millis(pos); ms > upTo && pos > head {
			break
		}
		bytes -= sh.seg.RecordSize(pos)
		records--
		pos++
	}
	sh.trimTo(pos, pos-head)
	sh.setTrimAt()
	return int64(pos - head), start - bytes
}

// enforceBounds brings the stream within its size bound, then the account
// within its own.
func (s *Stream) enforceBounds() {
	a := s.acct
	s.live.enforce(a.cfg.bound, s.shardList, a, s.name)
	a.live.enforce(a.cfg.accountBound, a.allShards, a, "")
}

// held returns the key and data bytes and the records the stream holds:
// what leaves the account's usage when it is deleted.
func (s *Stream) held() (bytes, records int64) {
	for _, sh := range s.shardList() {
		sh.mu.Lock()
		bytes += sh.seg.Bytes()
		records += int64(sh.seg.Len() - sh.seg.Head())
		sh.mu.Unlock()
	}
	return bytes, records
}

// allShards returns the shards of every stream of the account.
func (a *Account) allShards() []*shard {
	var out []*shard
	for _, s := range a.streamList() {
		out = append(out, s.shardList()...)
	}
	return out
}
