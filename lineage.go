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
// to their newest record; then the sequence ends. It is ReadAllFrom from
// the Position that p gives now.
//
// Records of different shards interleave in no particular order. Records
// removed by retention or a size bound before they were read are reported
// by a [*LostRecordsError], after which reading goes on; any other error is
// yielded once, as the last pair.
func (s *Stream) ReadAll(ctx context.Context, p StartingPosition) iter.Seq2[Record, error] {
	return s.lineageSeq(ctx, nil, &p, false)
}

// TailAll is ReadAll that keeps waiting for new records, in open shards and
// in the children of shards that close, until ctx is done (yielding
// ctx.Err()), the account closes (ErrClosed) or the stream is deleted
// (ErrResourceNotFound). It waits without polling and starts no goroutine.
func (s *Stream) TailAll(ctx context.Context, p StartingPosition) iter.Seq2[Record, error] {
	return s.lineageSeq(ctx, nil, &p, true)
}

// ReadAllFrom is ReadAll resuming from a saved Position: after the records
// it records as read, in the shards there are now (see [Position]). from is
// not modified.
func (s *Stream) ReadAllFrom(ctx context.Context, from Position) iter.Seq2[Record, error] {
	return s.lineageSeq(ctx, from, nil, false)
}

// TailAllFrom is TailAll resuming from a saved Position, as ReadAllFrom.
func (s *Stream) TailAllFrom(ctx context.Context, from Position) iter.Seq2[Record, error] {
	return s.lineageSeq(ctx, from, nil, true)
}

// lineageReader walks the shard tree. It is used by one goroutine.
type lineageReader struct {
	s       *Stream
	done    map[*shard]bool      // read to the end of a closed shard, or not to be read
	waiting map[*shard]*cursorOn // starting shards whose parents are not done yet
	queued  map[*shard]bool      // active, or read already
	active  []*cursorOn
	wake    chan struct{} // signalled by any active shard it waits on
}

type cursorOn struct {
	sh   *shard
	c    segment.Cursor
	next uint64 // the position of the record expected next
}

// lost reports the records from a.next up to pos as lost.
func (a *cursorOn) lost(pos uint64) error {
	err := a.sh.lost(a.next, pos)
	a.next = pos
	return err
}

func (s *Stream) lineageSeq(ctx context.Context, from Position, p *StartingPosition, follow bool) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		r, err := s.newLineageReader(ctx, from, p)
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
					if rec.Pos != a.next && !yield(Record{}, a.lost(rec.Pos)) {
						return
					}
					// A record that does not open (its key is unusable) is
					// the last pair.
					if rec.Gen == 0 {
						if !yield(a.sh.plainRecord(&rec), nil) {
							return
						}
					} else if out, err := a.sh.sealedRecord(&rec); !yield(out, err) || err != nil {
						return
					}
					a.next = rec.Pos + 1
				}
				if a.c.Pos() > a.next && !yield(Record{}, a.lost(a.c.Pos())) {
					return
				}
				if d, to, ok := a.sh.damaged(a.c.Err()); ok {
					if !yield(Record{}, d) {
						return
					}
					a.c.Seek(to) // the loop goes on: past the damage
					a.next = to
					progressed = true
					i--
					continue
				}
				if err := a.c.Err(); err != nil {
					yield(Record{}, a.sh.storageError(err))
					return
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

// newLineageReader starts a read from a saved position, or from where p
// points now if from is nil.
func (s *Stream) newLineageReader(ctx context.Context, from Position, p *StartingPosition) (*lineageReader, error) {
	if err := s.authorize(ctx, "GetRecords"); err != nil {
		return nil, err
	}
	if err := s.authorizeDecrypt(ctx, s.crypto.allGens()); err != nil {
		return nil, err
	}
	now, err := s.enter(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.usable(now); err != nil {
		return nil, err
	}
	if p != nil {
		if from, err = s.positionAt(now, *p); err != nil {
			return nil, err
		}
	}
	trim := now.Add(-s.retention())
	var live []*shard
	for _, sh := range s.shardList() {
		if sh != nil && !sh.expired(trim) {
			live = append(live, sh)
		}
	}
	named, err := s.namedShards(from, live)
	if err != nil {
		return nil, err
	}
	r := &lineageReader{s: s, done: map[*shard]bool{}, waiting: map[*shard]*cursorOn{}, queued: map[*shard]bool{}, wake: make(chan struct{}, 1)}
	descends, ancestors := map[*shard]bool{}, map[*shard]bool{}
	for _, sh := range live {
		sh.expire(now)
		var pos, next uint64
		switch n, ok := named[sh]; {
		case ok:
			pos = min(n, sh.seg.Len())
			next = pos
		case hasNamedDescendant(sh, from, descends):
			r.done[sh] = true // closed before the position begins
			continue
		case s.hasNamedAncestor(sh, from, ancestors):
			// Born after the position was saved: all of it is to be read.
		default:
			// Unknown to the position (one from before it covered this
			// part of the stream): from the oldest record, none missed.
			pos = sh.seg.Head()
			next = pos
		}
		r.waiting[sh] = &cursorOn{sh: sh, c: sh.seg.Cursor(pos), next: next}
	}
	for _, sh := range live {
		if c := r.waiting[sh]; c != nil && r.parentsDone(sh) {
			r.start(c)
		}
	}
	return r, nil
}

// namedShards returns the live shards that from names, with the position
// after the record it names. It checks that every entry is one of this
// stream's sequence numbers, of the shard it is filed under.
func (s *Stream) namedShards(from Position, live []*shard) (map[*shard]uint64, error) {
	named := make(map[*shard]uint64, len(from))
	for id, seq := range from {
		i, ok := parseShardIndex(id)
		if !ok || seq.n.Stream != s.inc || seq.n.Shard != i {
			return nil, newError(ErrInvalidArgument, "The position gives %s for shard %s, which is not a sequence number of that shard in stream %s.", seq, id, s.name)
		}
		if sh := findShard(live, i); sh != nil {
			named[sh] = seq.n.Counter // reading after counter c starts at position c
		}
	}
	return named, nil
}

// hasNamedDescendant reports whether a shard born of sh is named: then sh
// was read to its end. memo keeps each shard's answer: merges make the
// lineage a graph in which a walk without it repeats itself for every
// path, exponentially in their depth.
func hasNamedDescendant(sh *shard, from Position, memo map[*shard]bool) bool {
	if v, ok := memo[sh]; ok {
		return v
	}
	found := false
	if sh.closed.Load() {
		for _, c := range sh.children {
			if _, ok := from[c.id]; ok || hasNamedDescendant(c, from, memo) {
				found = true
				break
			}
		}
	}
	memo[sh] = found
	return found
}

// hasNamedAncestor reports whether sh descends from a shard that from
// names; memo as for hasNamedDescendant.
func (s *Stream) hasNamedAncestor(sh *shard, from Position, memo map[*shard]bool) bool {
	if v, ok := memo[sh]; ok {
		return v
	}
	found := false
	for _, id := range sh.parents {
		if _, ok := from[id]; ok {
			found = true
			break
		}
		if p := s.shard(id); p != nil && s.hasNamedAncestor(p, from, memo) {
			found = true
			break
		}
	}
	memo[sh] = found
	return found
}

// start makes c active.
func (r *lineageReader) start(c *cursorOn) {
	delete(r.waiting, c.sh)
	r.queued[c.sh] = true
	r.active = append(r.active, c)
}

// finish marks a closed shard read to its end and starts the children whose
// parents are all done.
func (r *lineageReader) finish(sh *shard) {
	r.done[sh] = true
	r.remove(sh)
	for _, c := range sh.children {
		if r.queued[c] || r.done[c] || !r.parentsDone(c) {
			continue
		}
		if w := r.waiting[c]; w != nil {
			r.start(w)
			continue
		}
		r.start(&cursorOn{sh: c, c: c.seg.Cursor(0)}) // born during the read
	}
}

// parentsDone reports whether every parent of c still there has been read
// to its end (or was not to be read).
func (r *lineageReader) parentsDone(c *shard) bool {
	for _, id := range c.parents {
		if p := r.s.shard(id); p != nil && !r.done[p] {
			return false
		}
	}
	return true
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
