package shardlog

import (
	"context"
	"time"

	"github.com/shardlog/shardlog/internal/seqnum"
)

// Position is where a whole-stream reader stands, in the form a consumer
// group checkpoints it: for each shard, the sequence number of the last
// record read from it, or the shard's StartingSequenceNumber if none has
// been. Get one from [Stream.Position], record each record read with
// Advance, save it (it marshals to JSON as an object of decimal strings),
// and resume with [Stream.ReadAllFrom] or [Stream.TailAllFrom] — after a
// restart of a durable account too, and across any number of reshards.
//
// Resuming reads, of the shards there are then:
//   - a shard the position names: after the record it names;
//   - a shard with a descendant that the position names: nothing, it
//     closed before the position begins;
//   - a shard born since (a descendant of a named shard): all of it, once
//     its parents are read; records of it removed meanwhile are reported
//     lost;
//   - any other shard: from its oldest record.
//
// A Position is a plain map, not safe for concurrent use; copy it with
// maps.Clone.
type Position map[string]SequenceNumber

// Advance records r as read. A zero Position (nil) starts empty: it then
// names only the shards read since, and every other shard is read from
// its oldest record.
func (p *Position) Advance(r Record) {
	if *p == nil {
		*p = Position{}
	}
	(*p)[r.ShardID] = r.SequenceNumber
}

// Position returns where p points now, as a Position for ReadAllFrom and
// TailAllFrom. p.Type is TRIM_HORIZON, LATEST or AT_TIMESTAMP.
//
// Errors: ErrInvalidArgument for another type or a bad timestamp,
// ErrResourceNotFound if the stream is gone.
func (s *Stream) Position(ctx context.Context, p StartingPosition) (Position, error) {
	if err := s.authorize(ctx, "GetShardIterator"); err != nil {
		return nil, err
	}
	now, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.usable(now); err != nil {
		return nil, err
	}
	return s.positionAt(now, p)
}

// positionAt names the shards open at p, each just before where p points
// in it. For TRIM_HORIZON it names every shard at its oldest record, so
// that what was removed before the read began is not reported lost.
func (s *Stream) positionAt(now time.Time, p StartingPosition) (Position, error) {
	page := shardPage{}
	switch p.Type {
	case TrimHorizon:
		page.filter = FilterFromTrimHorizon
	case Latest:
		page.filter = FilterAtLatest
	case AtTimestamp:
		page.filter = FilterAtTimestamp
		page.filterTime = unixMilli(p.Timestamp)
	default:
		return nil, newError(ErrInvalidArgument, "A stream is read from TRIM_HORIZON, LATEST or AT_TIMESTAMP, not %q.", p.Type)
	}
	trim := now.Add(-s.retention())
	out := Position{}
	for _, sh := range s.shardList() {
		if sh == nil || sh.expired(trim) || !page.matches(sh, s, trim) {
			continue
		}
		sh.expire(now)
		pos, err := s.position(sh, now, p)
		if err != nil {
			return nil, err
		}
		out[sh.id] = sh.before(max(pos, sh.seg.Head()))
	}
	return out, nil
}

// before is the sequence number after which reading starts at pos: that of
// the record at pos-1, or the shard's starting number for pos 0.
func (sh *shard) before(pos uint64) SequenceNumber {
	return SequenceNumber{n: seqnum.Number{Stream: sh.inc, Shard: sh.index, Counter: pos}}
}
