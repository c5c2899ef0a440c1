package analytics

import (
	"context"
	"fmt"
	"time"

	"github.com/shardlog/shardlog"
)

// outbox holds the results a job (or, with ByPartitionKey, one shard of
// it) has fired, and the snapshots that fix them: results go out only
// once a saved snapshot holds them, so that a crash emits them again
// unchanged. It also says when the next snapshot is due.
type outbox[K comparable, R any] struct {
	store    Store
	name     string // the snapshot's
	clock    shardlog.Clock
	interval time.Duration // Config.SnapshotInterval

	pending  []Result[K, R] // fired, not yet emitted
	fixed    int            // how many of pending, from the first, the last snapshot holds
	version  int64          // of the last snapshot saved or loaded
	dirty    bool           // something changed since the last snapshot
	savedAt  time.Time      // when it was saved, on the job's clock
	saveCost time.Duration  // how long that took
	saveAt   time.Time      // when the next periodic snapshot is due
}

// restored starts the outbox from a snapshot of version, at now: its
// pending results are fixed.
func (o *outbox[K, R]) restored(version int64, pending []Result[K, R], now time.Time) {
	o.version, o.pending, o.fixed = version, pending, len(pending)
	o.savedAt, o.saveAt = now, now.Add(o.interval)
}

// due says whether to save a snapshot now, and, when results wait only
// for the gap after the last one, how long until it has passed.
//
// A snapshot costs the whole state, so while the job catches up results
// gather for up to a second; once it has, they go at once. Either way
// snapshots are at least twice as far apart as the last one took, so
// that a large state firing often (sessions closing one by one) spends at
// most a third of the job's time on them.
func (o *outbox[K, R]) due(now time.Time, caughtUp bool) (save bool, wait time.Duration) {
	since, gap := now.Sub(o.savedAt), 2*o.saveCost
	waiting := len(o.pending) > o.fixed
	if waiting && since < gap {
		return false, gap - since
	}
	return waiting && (caughtUp || since >= time.Second) || o.dirty && !now.Before(o.saveAt), 0
}

// save stores the snapshot encode makes of the state and o.pending as
// the next version; the pending results are then fixed.
func (o *outbox[K, R]) save(ctx context.Context, encode func() ([]byte, error)) error {
	began := o.clock.Now()
	data, err := encode()
	if err != nil {
		return fmt.Errorf("analytics: encoding the snapshot %s: %w", o.name, err)
	}
	if err := o.store.Save(ctx, o.name, o.version+1, data); err != nil {
		return fmt.Errorf("analytics: saving the snapshot %s: %w", o.name, err)
	}
	o.version++
	o.fixed = len(o.pending)
	o.dirty = false
	o.savedAt = o.clock.Now()
	o.saveCost = o.savedAt.Sub(began)
	o.saveAt = o.savedAt.Add(o.interval)
	return nil
}

// emit gives the fixed results to out once, returning how many went.
func (o *outbox[K, R]) emit(ctx context.Context, out Output[K, R]) (int, error) {
	if o.fixed == 0 {
		return 0, nil
	}
	if err := out.Emit(ctx, o.pending[:o.fixed]); err != nil {
		return 0, err
	}
	sent := o.fixed
	n := copy(o.pending, o.pending[sent:])
	clear(o.pending[n:])
	o.pending, o.fixed = o.pending[:n], 0
	o.dirty = true // the next snapshot leaves them out
	return sent, nil
}
