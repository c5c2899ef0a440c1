package shardlog

import (
	"context"
	"time"

	"github.com/shardlog/shardlog/internal/hashkey"
)

// groupSource is the stream a consumer group reads: an embedded one, read
// from its shards directly, or any StreamAPI.
type groupSource interface {
	// api is the stream as a StreamAPI.
	api() StreamAPI
	// newLeases returns leases for the shards that have none in have: at
	// the group's initial position when it has none at all, from their
	// start for shards born since.
	newLeases(ctx context.Context, now time.Time, cfg *WorkerConfig, have map[string]bool) []Lease
	// exists reports whether a shard is still there: a parent that has no
	// lease yet holds its children back.
	exists(shardID string) bool
	// reader returns a reader of h's shard that starts after lease's
	// checkpoint, its batches' checkpoints going to cp; nil if the shard
	// is gone, records and all; an error if that could not be told.
	reader(w *worker, h *heldLease, lease Lease, cp *Checkpointer) (batchReader, error)
	// hasher maps partition keys to hash keys as the stream places them.
	hasher() func(string) hashkey.Key
	// wait blocks until ctx is done (nil) or the stream or its account
	// ends (why).
	wait(ctx context.Context) error
}

// embeddedSource is the groupSource of a *Stream.
type embeddedSource struct{ s *Stream }

func (e embeddedSource) api() StreamAPI { return e.s }

func (e embeddedSource) hasher() func(string) hashkey.Key { return e.s.acct.cfg.hash }

func (e embeddedSource) exists(shardID string) bool { return e.s.shard(shardID) != nil }

func (e embeddedSource) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-e.s.acct.done:
		return ErrClosed
	case <-e.s.gone:
		return e.s.acct.notFound(e.s.name)
	}
}

// newLeases checkpoints each new lease at the sequence number the group
// starts after: the shard's StartingSequenceNumber, or where the initial
// position points; shards that closed before it are ended at once.
func (e embeddedSource) newLeases(_ context.Context, now time.Time, cfg *WorkerConfig, have map[string]bool) []Lease {
	s := e.s
	var start Position
	if len(have) == 0 {
		var err error
		if start, err = s.positionAt(now, cfg.InitialPosition); err != nil {
			return nil
		}
	}
	trim := now.Add(-s.retention())
	var out []Lease
	descends := map[*shard]bool{}
	for _, sh := range s.shardList() { // by index: parents before children
		if sh == nil || sh.expired(trim) || have[sh.id] {
			continue
		}
		l := Lease{Key: sh.id, Checkpoint: sh.startingSeq(), Parents: sh.parents}
		if seq, ok := start[sh.id]; ok {
			l.Checkpoint = seq
		} else if start != nil && hasNamedDescendant(sh, start, descends) {
			l.Checkpoint, l.ShardEnd = sh.endingSeq(), true // closed before the group begins
		}
		out = append(out, l)
	}
	return out
}
