package shardlog

import (
	"context"
	"errors"
	"time"

	"github.com/shardlog/shardlog/internal/hashkey"
	"github.com/shardlog/shardlog/internal/segment"
)

// startConsumerLocked starts the goroutine that feeds h's shard to a
// processor. w.mu is held.
func (w *worker) startConsumerLocked(h *heldLease) {
	h.running = true
	h.quit = make(chan struct{})
	h.why = stopShutdown
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.consume(h)
	}()
}

// stopConsumerLocked asks h's consumer, if it runs, to stop. w.mu is held.
func (w *worker) stopConsumerLocked(h *heldLease, why stopReason) {
	if h.running && h.quit != nil {
		select {
		case <-h.quit:
		default:
			h.why = why
			close(h.quit)
		}
	}
	if why == stopLost && h.cancel != nil {
		h.cancel()
	}
}

// readState is what a batchReader's next came back with.
type readState int

const (
	readBatch   readState = iota // records, or records lost or damaged
	readIdle                     // none for WorkerConfig.IdleInterval
	readEnd                      // the end of a closed shard
	readStopped                  // the consumer was told to stop
)

// batchReader reads one shard for a shard consumer.
type batchReader interface {
	// next returns the next batch, waiting for one, and what it found.
	next() (ProcessRecordsInput, readState)
	// owns reports whether a hash key belongs to the shard.
	owns(k hashkey.Key) bool
	// endingSeq is the checkpoint of the shard's end, once next said so.
	endingSeq() SequenceNumber
	close()
}

// consume runs h's processor until the shard ends or the consumer is told
// to stop.
func (w *worker) consume(h *heldLease) {
	defer func() {
		w.mu.Lock()
		h.running = false
		w.mu.Unlock()
	}()
	h.mu.Lock()
	lease := h.lease
	h.mu.Unlock()
	cp := &Checkpointer{w: w, h: h}
	r, err := w.src.reader(w, h, lease, cp)
	for err != nil {
		w.cfg.Logger.Warn("shardlog: a group could not find a shard", "shard", h.key, "err", err)
		if !w.sleep(h, time.Second) {
			return
		}
		r, err = w.src.reader(w, h, lease, cp)
	}
	if r == nil {
		// Expired, records and all: nothing is left to process.
		_ = w.checkpoint(w.ctx, h, SequenceNumber{}, true)
		w.release(h)
		return
	}
	defer r.close()
	d := deaggregator{owns: r.owns, hash: w.src.hasher()}
	if lease.CheckpointSubSequence > 0 {
		d.skipSeq, d.skipSub = lease.Checkpoint, lease.CheckpointSubSequence
	}
	p := w.cfg.NewProcessor(h.key)
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	w.mu.Lock()
	h.cancel = cancel // losing the lease ends the processor's context
	w.mu.Unlock()
	if !w.retry(h, "Initialize", func() error { return p.Initialize(ctx, InitializeInput{ShardID: h.key, Checkpoint: lease.Checkpoint}) }) {
		w.finish(ctx, h, p, cp)
		return
	}
	for {
		if stopped(h) {
			w.finish(ctx, h, p, cp)
			return
		}
		in, st := r.next()
		if w.cfg.Deaggregate && len(in.Records) > 0 {
			in.UserRecords = d.batch(in.Records)
			cp.users = in.UserRecords
		}
		switch st {
		case readBatch, readIdle:
			w.retry(h, "ProcessRecords", func() error { return p.ProcessRecords(ctx, in) })
			h.mu.Lock()
			lost, handoff := h.lost, h.handoff // a checkpoint found another worker wrote it
			h.mu.Unlock()
			switch {
			case lost:
				w.loseLease(h)
			case handoff:
				w.mu.Lock()
				w.stopConsumerLocked(h, stopHandoff)
				w.mu.Unlock()
			}
		case readEnd:
			cp.end, cp.endSeq = true, r.endingSeq()
			ended := func() bool {
				h.mu.Lock()
				defer h.mu.Unlock()
				return h.lease.ShardEnd
			}
			w.retry(h, "ShardEnded", func() error {
				if err := p.ShardEnded(ctx, ShardEndedInput{Checkpointer: cp}); err != nil {
					return err
				}
				if !ended() {
					return errNoEndCheckpoint
				}
				return nil
			})
			if !ended() {
				w.finish(ctx, h, p, cp)
				return
			}
			w.release(h)
			w.kick() // the children may start
			return
		}
	}
}

// errNoEndCheckpoint is why ShardEnded is called again.
var errNoEndCheckpoint = errors.New("the processor did not checkpoint at the end of its shard")

// retry calls f until it returns nil, a second apart on the group's clock,
// logging each error; it reports false if the lease was lost or the
// consumer was told to stop first.
func (w *worker) retry(h *heldLease, what string, f func() error) bool {
	for {
		err := f()
		if err == nil {
			return true
		}
		h.mu.Lock()
		lost := h.lost
		h.mu.Unlock()
		if lost {
			return false
		}
		w.cfg.Logger.Warn("shardlog: a record processor failed; calling it again in a second",
			"call", what, "shard", h.key, "application", w.cfg.Application, "err", err)
		if !w.sleep(h, time.Second) {
			return false
		}
	}
}

// finish ends a processor whose consumer was told to stop: LeaseLost if
// another worker has the lease, else ShutdownRequested (and, for a
// hand-off, the lease goes to its successor once it returns).
func (w *worker) finish(ctx context.Context, h *heldLease, p RecordProcessor, cp *Checkpointer) {
	h.mu.Lock()
	lost := h.lost // taken by another before it could be handed over
	h.mu.Unlock()
	switch {
	case h.why == stopLost || lost:
		p.LeaseLost(context.WithoutCancel(ctx), LeaseLostInput{})
	default:
		if err := p.ShutdownRequested(ctx, ShutdownRequestedInput{Checkpointer: cp}); err != nil {
			w.cfg.Logger.Warn("shardlog: a record processor failed to shut down", "shard", h.key, "application", w.cfg.Application, "err", err)
		}
		if h.why == stopHandoff {
			w.handOff(h)
		}
	}
}

// idleTimer returns a channel closed after the idle interval, on the
// group's clock (nil without one), and a function that stops it.
func (w *worker) idleTimer() (<-chan struct{}, func()) {
	if w.cfg.IdleInterval <= 0 {
		return nil, func() {}
	}
	idle := make(chan struct{})
	t := w.cfg.Clock.AfterFunc(w.cfg.IdleInterval, func() { close(idle) })
	return idle, func() { t.Stop() }
}

// stopped reports whether h's consumer was told to stop.
func stopped(h *heldLease) bool {
	select {
	case <-h.quit:
		return true
	default:
		return false
	}
}

// sleep waits d on the worker's clock, reporting false if h's consumer is
// told to stop first.
func (w *worker) sleep(h *heldLease, d time.Duration) bool {
	return sleep(context.Background(), w.cfg.Clock, d, h.quit) == nil
}

// shardConsumer is the batchReader of an embedded stream's shard: it reads
// as GetRecords would, each batch a read call counted against the shard's
// read limits, but it waits for records without polling.
type shardConsumer struct {
	s     *Stream
	w     *worker
	h     *heldLease
	sh    *shard
	cur   segment.Cursor
	pos   uint64 // the position of the next record to deliver
	batch []Record
	wake  chan struct{}
	cp    *Checkpointer
	sub   *Subscription // enhanced fan-out mode: the current subscription
	ended bool          // enhanced fan-out mode: the shard's last event came
}

// reader starts reading h's shard after the lease's checkpoint; nil if the
// shard is gone.
func (e embeddedSource) reader(w *worker, h *heldLease, lease Lease, cp *Checkpointer) (batchReader, error) {
	sh := e.s.shard(h.key)
	if sh == nil {
		return nil, nil
	}
	c := &shardConsumer{s: e.s, w: w, h: h, sh: sh, wake: make(chan struct{}, 1), cp: cp}
	c.pos = min(lease.Checkpoint.n.Counter, sh.seg.Len()) // after counter c is position c
	if lease.Checkpoint.IsZero() && lease.Start != "" && lease.Start != TrimHorizon {
		now := w.cfg.Clock.Now()
		sh.expire(now)
		if pos, err := e.s.position(sh, now, StartingPosition{Type: lease.Start, Timestamp: w.cfg.InitialPosition.Timestamp}); err == nil {
			c.pos = pos
		}
	} else if w.cfg.Deaggregate && lease.CheckpointSubSequence > 0 && c.pos > 0 {
		c.pos-- // read the aggregate again, skipping what was processed
	}
	c.cur = sh.seg.Cursor(c.pos)
	return c, nil
}

func (c *shardConsumer) owns(k hashkey.Key) bool { return c.sh.rng.Contains(k) }

func (c *shardConsumer) endingSeq() SequenceNumber { return c.sh.endingSeq() }

func (c *shardConsumer) close() {
	c.sh.unawait(c.wake)
	c.closeSub()
}

func (c *shardConsumer) next() (ProcessRecordsInput, readState) {
	idle, stop := c.w.idleTimer()
	defer stop()
	if c.w.consumerARN != "" {
		return c.readFanOut(idle)
	}
	return c.read(idle)
}

// injected applies a GetRecords fault injected for the shard: it waits
// out its delay and reports whether the read fails; not ok if the worker
// stopped while it waited.
func (c *shardConsumer) injected() (failed, ok bool) {
	f := c.s.acct.faults.take("GetRecords", c.s.name, int64(c.sh.index))
	if f == nil {
		return false, true
	}
	if f.Delay > 0 && !c.w.sleep(c.h, f.Delay) {
		return false, false
	}
	return f.Err != nil, true
}

// read returns the next batch, waiting for one.
func (c *shardConsumer) read(idle <-chan struct{}) (in ProcessRecordsInput, _ readState) {
	sh, w := c.sh, c.w
	for {
		tail, final := sh.tail()
		if c.pos >= tail && final {
			return in, readEnd
		}
		if c.pos < tail {
			now := w.cfg.Clock.Now()
			sh.expire(now)
			failed, ok := c.injected()
			if !ok {
				return in, readStopped
			}
			if !failed && sh.read.begin(now) {
				in, failed = c.batchAt(now, tail)
				if len(in.Records) > 0 || in.Lost != nil || in.Damaged != nil {
					return in, readBatch
				}
			}
			// Throttled, or the storage or an injected fault failed: back
			// off as the Kinesis Client Library does.
			if (failed || !sh.read.unlimited()) && !w.sleep(c.h, time.Second) {
				return in, readStopped
			}
			continue
		}
		if !sh.await(c.pos, c.wake) {
			continue
		}
		select {
		case <-c.wake:
		case <-idle:
			return ProcessRecordsInput{Checkpointer: c.cp}, readIdle
		case <-c.h.quit:
			return in, readStopped
		}
	}
}

// batchAt reads up to MaxRecords and 10 MiB from the shard; failed says
// the storage could not be read.
func (c *shardConsumer) batchAt(now time.Time, tail uint64) (_ ProcessRecordsInput, failed bool) {
	sh := c.sh
	in := ProcessRecordsInput{Checkpointer: c.cp}
	c.batch = c.batch[:0]
	if pos := c.cur.Pos(); tail > pos {
		// Sized once for the records there are, up to MaxRecords, rather
		// than doubled through fresh memory; an idle shard holds none.
		if want := min(tail-pos, uint64(c.w.cfg.MaxRecords)); uint64(cap(c.batch)) < want {
			c.batch = make([]Record, 0, want)
		}
	}
	bytes := 0
	var r segment.Record
read:
	for len(c.batch) < c.w.cfg.MaxRecords && c.cur.Pos() < tail && c.cur.Next(&r) {
		if r.Pos != c.pos {
			if len(c.batch) > 0 { // report the gap with the next batch
				c.cur.Seek(r.Pos)
				break
			}
			in.Lost, c.pos = sh.lost(c.pos, r.Pos), r.Pos
		}
		size := recordSize(&r)
		if len(c.batch) > 0 && bytes+size > maxReadBytes {
			c.cur.Seek(r.Pos)
			break
		}
		rec, err := sh.record(&r)
		if err != nil {
			// An unusable key: try again later, from this record.
			c.w.cfg.Logger.Warn("shardlog: a group could not read a record", "shard", sh.id, "err", err)
			c.cur.Seek(r.Pos)
			failed = true
			break
		}
		bytes += size
		c.batch = append(c.batch, rec)
		c.pos = r.Pos + 1
	}
	if len(c.batch) == 0 && c.cur.Pos() > c.pos && in.Lost == nil {
		in.Lost, c.pos = sh.lost(c.pos, c.cur.Pos()), c.cur.Pos()
	}
	if d, to, ok := sh.damaged(c.cur.Err()); ok && len(c.batch) == 0 && in.Damaged == nil && c.cur.Pos() == c.pos {
		// Reported, and passed: the records after it follow in this batch.
		in.Damaged, c.pos = d, to
		c.cur.Seek(to)
		goto read
	}
	if err := c.cur.Err(); err != nil {
		c.w.cfg.Logger.Warn("shardlog: a group could not read a shard", "shard", sh.id, "err", err)
		failed = true
	}
	sh.read.charge(now, bytes)
	if n := len(c.batch); n > 0 {
		c.cp.last = c.batch[n-1].SequenceNumber
	}
	if ms, ok := sh.seg.Millis(c.pos); ok && c.pos < tail {
		in.MillisBehindLatest = max(0, now.UnixMilli()-ms)
	}
	in.Records = c.batch
	return in, failed
}

// release frees a lease whose shard has ended, and forgets it.
func (w *worker) release(h *heldLease) {
	h.mu.Lock()
	if !h.lost {
		free := h.lease
		free.Owner, free.Successor, free.Counter = "", "", h.lease.Counter+1
		if w.cfg.Leases.Swap(w.ctx, w.table, &h.lease, free) == nil {
			h.lease = free
		}
		h.lost = true // no longer this worker's to renew
	}
	h.mu.Unlock()
	w.mu.Lock()
	if w.held[h.key] == h {
		delete(w.held, h.key)
	}
	w.mu.Unlock()
}
