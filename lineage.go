package shardlog

import (
	"context"
	"iter"

	"github.com/shardlog/shardlog/internal/segment"
)

// ReadAll returns the records of the whole stream from p, reading every
// shard to its end before any of its children, the rule the Kinesis Client
// Library enforces: records of one partition key come out in order across
// any number of reshards. p.Type is TRIM_HORIZON, LATEST or AT_TIMESTAMP:
// reading starts with the shards open at that point, at that point, and
// continues with their descendants from their start. Open shards are read up
// to their newest record; then the sequence ends.
//
// Records of different shards interleave in no particular order. An error
// is yielded once, as the last pair.
func (s *Stream) ReadAll(ctx context.Context, p StartingPosition) iter.Seq2[Record, error] {
	return s.lineageSeq(ctx, p, false)
}

// TailAll is ReadAll that keeps waiting for new records, in open shards and
// in the children of shards that close, until ctx is done (yielding
// ctx.Err()), the account closes (ErrClosed) or the stream is deleted
// (ErrResourceNotFound). It waits without polling and starts no goroutine.
func (s *Stream) TailAll(ctx context.Context, p StartingPosition) iter.Seq2[Record, error] {
	return s.lineageSeq(ctx, p, true)
}

// lineageReader walks the shard tree. It is used by one goroutine.
type lineageReader struct {
	s      *Stream
	scope  map[*shard]bool // shards in the read: the start set and its descendants
	done   map[*shard]bool // read to the end of a closed shard
	queued map[*shard]bool
	active []*cursorOn
	wake   chan struct{} // signalled by any active shard it waits on
}

type cursorOn struct {
	sh *shard
	c  segment.Cursor
}

func (s *Stream) lineageSeq(ctx context.Context, p StartingPosition, follow bool) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		r, err := s.newLineageReader(ctx, p)
		if err != nil {
			yield(Record{}, err)
			return
		}
		defer r.unawait()
		var rec segment.Record
		for len(r.active) > 0 {
			if err := s.interrupted(ctx); err != nil {
				yield(Record{}, err)
				return
			}
			progressed := false
			for i := 0; i < len(r.active); i++ {
				a := r.active[i]
				a.sh.expire(s.acct.cfg.clock.Now())
				tail, final := a.sh.tail()
				for a.c.Pos() < tail && a.c.Next(&rec) {
					progressed = true
					if !yield(a.sh.record(&rec), nil) {
						return
					}
				}
				switch {
				case final && a.c.Pos() >= tail:
					r.finish(a.sh)
				case !follow:
					r.remove(a.sh) // read to its newest record
				default:
					continue
				}
				progressed = true
				i = -1 // the active list changed; walk it again
			}
			if progressed || !follow {
				continue
			}
			if err := r.wait(ctx); err != nil {
				yield(Record{}, err)
				return
			}
		}
	}
}

func (s *Stream) newLineageReader(ctx context.Context, p StartingPosition) (*lineageReader, error) {
	now, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.usable(now); err != nil {
		return nil, err
	}
	page := shardPage{}
	switch p.Type {
	case TrimHorizon:
		page.filter = FilterAtTrimHorizon
	case Latest:
		page.filter = FilterAtLatest
	case AtTimestamp:
		page.filter = FilterAtTimestamp
		page.filterTime = unixMilli(p.Timestamp)
	default:
		return nil, newError(ErrInvalidArgument, "A stream is read from TRIM_HORIZON, LATEST or AT_TIMESTAMP, not %q.", p.Type)
	}
	r := &lineageReader{s: s, scope: map[*shard]bool{}, done: map[*shard]bool{}, queued: map[*shard]bool{}, wake: make(chan struct{}, 1)}
	trim := now.Add(-s.retention())
	var starts []*cursorOn
	for _, sh := range s.shardList() {
		if sh == nil || sh.expired(trim) || !page.matches(sh, s, trim) {
			continue
		}
		pos, err := s.position(sh, now, p)
		if err != nil {
			return nil, err
		}
		r.scope[sh] = true
		starts = append(starts, &cursorOn{sh: sh, c: sh.seg.Cursor(pos)})
	}
	// A start shard whose parent also starts waits for it, like any child.
	for _, c := range starts {
		if r.parentsDone(c.sh) {
			r.queued[c.sh] = true
			r.active = append(r.active, c)
		}
	}
	return r, nil
}

// finish marks a closed shard read to its end and starts the children whose
// parents in the read are all done.
func (r *lineageReader) finish(sh *shard) {
	r.done[sh] = true
	r.remove(sh)
	for _, c := range sh.children {
		r.scope[c] = true
		if r.queued[c] || !r.parentsDone(c) {
			continue
		}
		r.queued[c] = true
		r.active = append(r.active, &cursorOn{sh: c, c: c.seg.Cursor(c.seg.Head())})
	}
}

// parentsDone reports whether every parent of c that the read covers has
// been read to its end. Parents outside the read (older than where it
// started) do not hold c back.
func (r *lineageReader) parentsDone(c *shard) bool {
	for _, id := range c.parents {
		p := r.s.shard(id)
		if p != nil && r.inScope(p) && !r.done[p] {
			return false
		}
	}
	return true
}

// inScope reports whether sh is in the start set or descends from it.
func (r *lineageReader) inScope(sh *shard) bool {
	if in, ok := r.scope[sh]; ok {
		return in
	}
	in := false
	for _, id := range sh.parents {
		if p := r.s.shard(id); p != nil && r.inScope(p) {
			in = true
		}
	}
	r.scope[sh] = in
	return in
}

func (r *lineageReader) remove(sh *shard) {
	for i, a := range r.active {
		if a.sh == sh {
			r.active = append(r.active[:i], r.active[i+1:]...)
			return
		}
	}
}

// wait blocks until an active shard has a record past its cursor or closes,
// or the read must end. One channel serves every shard waited on.
func (r *lineageReader) wait(ctx context.Context) error {
	for _, a := range r.active {
		if !a.sh.await(a.c.Pos(), r.wake) {
			return nil // something to read already
		}
	}
	s := r.s
	select {
	case <-r.wake:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.acct.done:
		return ErrClosed
	case <-s.gone:
		return s.acct.notFound(s.name)
	}
}

// unawait withdraws the reader's channel from every shard it may wait on.
func (r *lineageReader) unawait() {
	for _, a := range r.active {
		a.sh.unawait(r.wake)
	}
}
