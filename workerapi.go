package shardlog

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/shardlog/shardlog/internal/hashkey"
)

// A group on a StreamAPI other than *Stream (Amazon Kinesis through the aws
// module, say) learns the shards from ListShards on every pass and reads
// each with GetRecords, or SubscribeToShard in enhanced fan-out mode, as
// the Kinesis Client Library does. Its new leases carry the KCL's starting
// positions rather than sequence numbers: a shard's first record has no
// number before it that Kinesis would name.

// apiSource is the groupSource of a StreamAPI.
type apiSource struct {
	stream StreamAPI

	mu     sync.Mutex
	shards map[string]Shard // as last listed

	gone    chan struct{} // closed once the stream is found gone
	endOnce sync.Once
	err     error // why it ended (set before gone is closed)
}

func (a *apiSource) api() StreamAPI { return a.stream }

// hasher is Kinesis's placement, with which the Kinesis Producer Library
// aggregates.
func (a *apiSource) hasher() func(string) hashkey.Key { return hashkey.FromMD5 }

func (a *apiSource) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-a.gone:
		return a.err
	}
}

func (a *apiSource) exists(shardID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.shards[shardID]
	return ok
}

// list returns the shards filter selects, every page of them. With no
// filter, it keeps them as the shards there are; a stream found gone ends
// the group.
func (a *apiSource) list(ctx context.Context, filter ShardFilter) ([]Shard, error) {
	var out []Shard
	in := ListShardsInput{ShardFilter: filter}
	for {
		page, err := a.stream.ListShards(ctx, in)
		if err != nil {
			if errors.Is(err, ErrResourceNotFound) {
				a.endOnce.Do(func() { a.err = err; close(a.gone) })
			}
			return nil, err
		}
		out = append(out, page.Shards...)
		if page.NextToken == "" {
			break
		}
		in = ListShardsInput{NextToken: page.NextToken}
	}
	if filter.Type == "" {
		m := make(map[string]Shard, len(out))
		for _, sh := range out {
			m[sh.ShardID] = sh
		}
		a.mu.Lock()
		a.shards = m
		a.mu.Unlock()
	}
	return out, nil
}

// newLeases starts the shards the group's initial position names there
// (TRIM_HORIZON: all of them); shards closed before it end at once, and
// shards born after it, or later, start at TRIM_HORIZON.
func (a *apiSource) newLeases(ctx context.Context, _ time.Time, cfg *WorkerConfig, have map[string]bool) []Lease {
	all, err := a.list(ctx, ShardFilter{})
	if err != nil {
		cfg.Logger.Warn("shardlog: could not list the shards", "stream", a.stream.Name(), "err", err)
		return nil
	}
	var named map[string]bool // the shards the initial position names
	if len(have) == 0 && cfg.InitialPosition.Type != TrimHorizon {
		f := ShardFilter{Type: FilterAtLatest}
		if cfg.InitialPosition.Type == AtTimestamp {
			f = ShardFilter{Type: FilterAtTimestamp, Timestamp: cfg.InitialPosition.Timestamp}
		}
		at, err := a.list(ctx, f)
		if err != nil {
			cfg.Logger.Warn("shardlog: could not list the shards", "stream", a.stream.Name(), "err", err)
			return nil
		}
		named = make(map[string]bool, len(at))
		for _, sh := range at {
			named[sh.ShardID] = true
		}
	}
	byID := make(map[string]Shard, len(all))
	for _, sh := range all {
		byID[sh.ShardID] = sh
	}
	var out []Lease
	for _, sh := range all { // by index: parents before children
		if have[sh.ShardID] {
			continue
		}
		l := Lease{Key: sh.ShardID, Start: TrimHorizon, Parents: parentsOf(sh)}
		switch {
		case named == nil:
		case named[sh.ShardID]:
			l.Start = cfg.InitialPosition.Type
		case !descendsFrom(sh, named, byID):
			// Closed before the group begins.
			l.Start, l.Checkpoint, l.ShardEnd = "", sh.SequenceNumberRange.EndingSequenceNumber, true
		}
		out = append(out, l)
	}
	return out
}

func parentsOf(sh Shard) []string {
	var out []string
	for _, p := range []string{sh.ParentShardID, sh.AdjacentParentShardID} {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// descendsFrom reports whether one of sh's ancestors is named.
func descendsFrom(sh Shard, named map[string]bool, byID map[string]Shard) bool {
	for _, p := range parentsOf(sh) {
		if named[p] {
			return true
		}
		if parent, ok := byID[p]; ok && descendsFrom(parent, named, byID) {
			return true
		}
	}
	return false
}

// reader reads h's shard through the StreamAPI; nil if ListShards no
// longer lists it.
func (a *apiSource) reader(w *worker, h *heldLease, lease Lease, cp *Checkpointer) (batchReader, error) {
	a.mu.Lock()
	sh, ok := a.shards[h.key]
	a.mu.Unlock()
	if !ok { // made by a worker that listed the shards later than this one
		if _, err := a.list(w.ctx, ShardFilter{}); err != nil {
			return nil, err
		}
		a.mu.Lock()
		sh, ok = a.shards[h.key]
		a.mu.Unlock()
		if !ok {
			return nil, nil
		}
	}
	r := &apiReader{a: a, w: w, h: h, cp: cp, end: sh.SequenceNumberRange.EndingSequenceNumber, after: lease.Checkpoint}
	r.rng.Start, _ = hashkey.Parse(sh.HashKeyRange.StartingHashKey)
	r.rng.End, _ = hashkey.Parse(sh.HashKeyRange.EndingHashKey)
	switch {
	case !lease.Checkpoint.IsZero():
		if w.cfg.Deaggregate && lease.CheckpointSubSequence > 0 {
			// Read the aggregate again, skipping what was processed.
			r.at, r.after = lease.Checkpoint, SequenceNumber{}
		}
	case lease.Start == AtTimestamp:
		r.start = StartingPosition{Type: AtTimestamp, Timestamp: w.cfg.InitialPosition.Timestamp}
	case lease.Start == Latest:
		r.start = StartingPosition{Type: Latest}
	default:
		r.start = StartingPosition{Type: TrimHorizon}
	}
	return r, nil
}

// apiReader is the batchReader of a shard read through a StreamAPI.
type apiReader struct {
	a   *apiSource
	w   *worker
	h   *heldLease
	cp  *Checkpointer
	rng hashkey.Range
	end SequenceNumber // the shard's EndingSequenceNumber, if it was closed

	// Where to read next: at at, after after, else from start.
	at, after SequenceNumber
	start     StartingPosition

	iter  string        // polling: the next shard iterator
	sub   *Subscription // enhanced fan-out: the current subscription
	ended bool          // enhanced fan-out: the shard's last event came
}

func (r *apiReader) owns(k hashkey.Key) bool { return r.rng.Contains(k) }

func (r *apiReader) endingSeq() SequenceNumber {
	if r.end.IsZero() {
		return r.after
	}
	return r.end
}

func (r *apiReader) close() {
	if r.sub != nil {
		r.sub.Close()
		r.sub = nil
	}
}

func (r *apiReader) position() StartingPosition {
	switch {
	case !r.at.IsZero():
		return StartingPosition{Type: AtSequenceNumber, SequenceNumber: r.at}
	case !r.after.IsZero():
		return StartingPosition{Type: AfterSequenceNumber, SequenceNumber: r.after}
	}
	return r.start
}

// batch hands records on, and reads after them from now on.
func (r *apiReader) batch(records []Record, behind int64) ProcessRecordsInput {
	r.at, r.after = SequenceNumber{}, records[len(records)-1].SequenceNumber
	r.cp.last = r.after
	return ProcessRecordsInput{Records: records, MillisBehindLatest: behind, Checkpointer: r.cp}
}

// passDamage reports damaged records that a read failed on (known as such
// only on an embedded stream; a remote one answers InternalFailure, which
// is retried), and reads after them from now on.
func (r *apiReader) passDamage(err error) (ProcessRecordsInput, bool) {
	var d *DamagedRecordsError
	if !errors.As(err, &d) {
		return ProcessRecordsInput{}, false
	}
	r.at, r.after, r.iter = SequenceNumber{}, d.Last, ""
	return ProcessRecordsInput{Damaged: d, Checkpointer: r.cp}, true
}

// backOff waits a second after a failed call, as the Kinesis Client
// Library does, reporting false if told to stop meanwhile.
func (r *apiReader) backOff(what string, err error) bool {
	if !errors.Is(err, ErrProvisionedThroughputExceeded) && !errors.Is(err, ErrLimitExceeded) {
		r.w.cfg.Logger.Warn("shardlog: a group could not "+what, "shard", r.h.key, "err", err)
	}
	return r.w.sleep(r.h, time.Second)
}

func (r *apiReader) next() (ProcessRecordsInput, readState) {
	if r.w.cfg.EnhancedFanOut {
		idle, stop := r.w.idleTimer()
		defer stop()
		return r.nextEvent(idle)
	}
	return r.poll()
}

// poll reads with GetRecords, waiting PollInterval whenever it has caught
// up; after IdleInterval without records it comes back idle.
func (r *apiReader) poll() (in ProcessRecordsInput, _ readState) {
	w, api := r.w, r.a.stream
	start := w.cfg.Clock.Now()
	for !stopped(r.h) {
		if r.iter == "" {
			it, err := api.GetShardIterator(w.ctx, r.h.key, r.position())
			if err != nil {
				if !r.backOff("get a shard iterator", err) {
					break
				}
				continue
			}
			r.iter = it
		}
		out, err := api.GetRecords(w.ctx, GetRecordsInput{ShardIterator: r.iter, Limit: w.cfg.MaxRecords})
		if errors.Is(err, ErrExpiredIterator) {
			r.iter = ""
			continue
		}
		if in, ok := r.passDamage(err); ok {
			return in, readBatch
		}
		if err != nil {
			if !r.backOff("read a shard", err) {
				break
			}
			continue
		}
		r.iter = out.NextShardIterator
		if len(out.Records) > 0 {
			return r.batch(out.Records, out.MillisBehindLatest), readBatch
		}
		if r.iter == "" {
			return in, readEnd // the end of a closed shard
		}
		if out.MillisBehindLatest == 0 {
			if d := w.cfg.IdleInterval; d > 0 && w.cfg.Clock.Now().Sub(start) >= d {
				return ProcessRecordsInput{Checkpointer: r.cp}, readIdle
			}
			if !w.sleep(r.h, w.cfg.PollInterval) {
				break
			}
		}
	}
	return in, readStopped
}

// nextEvent reads with SubscribeToShard, subscribing again whenever a
// subscription ends.
func (r *apiReader) nextEvent(idle <-chan struct{}) (in ProcessRecordsInput, _ readState) {
	w := r.w
	for !r.ended && !stopped(r.h) {
		if r.sub == nil {
			sub, err := r.a.stream.SubscribeToShard(w.ctx, SubscribeToShardInput{ConsumerName: w.cfg.Application, ShardID: r.h.key, StartingPosition: r.position()})
			if errors.Is(err, ErrResourceInUse) && !w.stillHolds(r.h) {
				w.loseLease(r.h) // see shardConsumer.readFanOut
				return in, readStopped
			}
			if err != nil {
				if !r.backOff("subscribe to a shard", err) {
					break
				}
				continue
			}
			r.sub = sub
		}
		select {
		case ev, ok := <-r.sub.Events():
			if !ok {
				err := r.sub.Err()
				r.sub = nil
				if in, ok := r.passDamage(err); ok {
					return in, readBatch
				}
				if errors.Is(err, ErrResourceInUse) && !w.stillHolds(r.h) {
					w.loseLease(r.h) // see shardConsumer.readFanOut
					return in, readStopped
				}
				if err != nil && !r.backOff("read a subscription", err) {
					return in, readStopped
				}
				continue // its five minutes are up: subscribe again
			}
			r.ended = ev.ContinuationSequenceNumber.IsZero() // the last event of a closed shard
			if len(ev.Records) > 0 {
				return r.batch(ev.Records, ev.MillisBehindLatest), readBatch
			}
		case <-idle:
			return ProcessRecordsInput{Checkpointer: r.cp}, readIdle
		case <-r.h.quit:
			return in, readStopped
		}
	}
	if r.ended {
		return in, readEnd
	}
	return in, readStopped
}
