package analytics

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/shardlog/shardlog"
)

// operator owns a running job's state: one goroutine applies the shards'
// batches to the windows, keeps the watermark, fires windows, saves
// snapshots and emits results, so user code (Aggregate, Output, Late)
// runs without a lock held.
type operator[E any, K comparable, A, R any] struct {
	j       *Job[E, K, A, R]
	msgs    chan message[E, K]
	state   *windows[E, K, A, R]
	shards  map[string]shardState // what a snapshot keeps of each shard
	active  map[string]*liveShard // shards that hold the watermark: read now, or expected to be
	out     outbox[K, R]
	stopped chan struct{}  // closed when run returns: no one takes messages
	tick    chan struct{}  // a token: time to look at the clock again
	wake    shardlog.Timer // pokes tick once snapshots' gap has passed; nil if not set
	events  sync.Pool      // of *[]event[E, K]: batches' buffers
}

// liveShard is what the watermark needs of a shard being read.
type liveShard struct {
	lastActive time.Time // when it last had records, on the clock
	behind     bool      // its last batch was not the end of what it holds
}

type msgKind uint8

const (
	msgBatch msgKind = iota + 1
	msgOpen          // a consumer started on the shard
	msgEnd           // the shard was read to its end: reply once that is in a snapshot
	msgClose         // the consumer stopped (shut down, lease lost)
)

type message[E any, K comparable] struct {
	kind   msgKind
	shard  string
	events *[]event[E, K] // msgBatch: given back to the pool once applied
	last   shardlog.SequenceNumber
	behind bool     // msgBatch: the shard has more records to read
	kids   []string // msgEnd: the shard's children
	now    time.Time
	done   chan error // msgEnd
}

// event is a decoded record on its way to the windows.
type event[E any, K comparable] struct {
	e   E
	k   K
	t   int64 // event time, in Unix nanoseconds
	seq shardlog.SequenceNumber
}

var retryPause = time.Second

// errStopped is what a consumer gets when the job's operator has stopped.
var errStopped = errors.New("analytics: the job stopped")

// run applies messages until ctx ends, then saves a last snapshot. outer
// is Run's context: emission retries give up when it ends.
func (op *operator[E, K, A, R]) run(ctx, outer context.Context) error {
	defer close(op.stopped)
	clock := op.j.cfg.Clock
	tick := op.tick
	var timer shardlog.Timer
	arm := func() {
		timer = clock.AfterFunc(time.Second, op.poke)
	}
	arm()
	defer func() {
		timer.Stop()
		if op.wake != nil {
			op.wake.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return op.drain(outer)
		case m := <-op.msgs:
			if err := op.apply(outer, m); err != nil {
				return err
			}
		case <-tick:
			timer.Stop()
			if op.wake != nil {
				op.wake.Stop()
				op.wake = nil
			}
			arm()
			if err := op.step(outer, clock.Now()); err != nil {
				return err
			}
		}
	}
}

// poke asks run to step: a timer's callback.
func (op *operator[E, K, A, R]) poke() {
	select {
	case op.tick <- struct{}{}:
	default:
	}
}

// drain applies the messages consumers sent before they stopped, and
// saves a last snapshot.
func (op *operator[E, K, A, R]) drain(ctx context.Context) error {
	for {
		select {
		case m := <-op.msgs:
			if err := op.apply(ctx, m); err != nil {
				return err
			}
		default:
			return op.save(context.WithoutCancel(ctx))
		}
	}
}

func (op *operator[E, K, A, R]) apply(ctx context.Context, m message[E, K]) error {
	sh, ok := op.shards[m.shard]
	if !ok {
		sh.MaxEventTime = floor
	}
	switch m.kind {
	case msgOpen:
		if !sh.Ended {
			if _, ok := op.active[m.shard]; !ok {
				op.active[m.shard] = &liveShard{lastActive: m.now}
			}
		}
	case msgClose:
		delete(op.active, m.shard)
	case msgEnd:
		delete(op.active, m.shard)
		if !sh.Ended {
			sh.Ended = true
			op.shards[m.shard] = sh
			op.out.dirty = true
		}
		// The children take over from the parent's watermark at once, so
		// that the other shards do not move the job's past their records
		// before their consumers start.
		for _, kid := range m.kids {
			ks, ok := op.shards[kid]
			if !ok {
				ks.MaxEventTime = floor
			}
			if ks.Ended {
				continue
			}
			ks.MaxEventTime = max(ks.MaxEventTime, sh.MaxEventTime)
			op.shards[kid] = ks
			if _, ok := op.active[kid]; !ok {
				op.active[kid] = &liveShard{lastActive: m.now}
			}
		}
		err := op.step(ctx, m.now)
		if err == nil && op.out.dirty {
			err = op.save(ctx)
		}
		m.done <- err
		return err
	case msgBatch:
		op.applyBatch(m, &sh)
	}
	return op.step(ctx, m.now)
}

func (op *operator[E, K, A, R]) applyBatch(m message[E, K], sh *shardState) {
	events := *m.events
	defer func() {
		clear(events)
		*m.events = events[:0]
		op.events.Put(m.events)
	}()
	if len(events) == 0 && m.last.Compare(sh.Position) <= 0 {
		return
	}
	var late []LateEvent[E]
	added, nLate := 0, 0
	for i := range events {
		ev := &events[i]
		if !sh.Position.IsZero() && ev.seq.Compare(sh.Position) <= 0 {
			continue // in the snapshot already: read again after a restart
		}
		if op.state.add(ev.k, ev.t, ev.e) {
			added++
		} else if nLate++; op.j.cfg.Late != nil {
			late = append(late, LateEvent[E]{
				Event: ev.e, Time: unixNano(ev.t), Watermark: unixNano(op.state.watermark),
				ShardID: m.shard, SequenceNumber: ev.seq,
			})
		}
		sh.MaxEventTime = max(sh.MaxEventTime, ev.t)
	}
	if m.last.Compare(sh.Position) > 0 {
		sh.Position = m.last
	}
	op.shards[m.shard] = *sh
	op.out.dirty = true
	live, ok := op.active[m.shard]
	if !ok && !sh.Ended && len(events) > 0 {
		live = &liveShard{lastActive: m.now}
		op.active[m.shard] = live
	}
	if live != nil {
		live.behind = m.behind
		if len(events) > 0 {
			live.lastActive = m.now
		}
	}
	op.j.stats.events.Add(int64(added))
	op.j.stats.late.Add(int64(nLate))
	for _, l := range late {
		op.j.cfg.Late(l)
	}
}

// step moves the watermark, fires what it closes, and saves a snapshot
// when results wait or one is due.
func (op *operator[E, K, A, R]) step(ctx context.Context, now time.Time) error {
	op.out.pending = op.state.advance(op.watermark(now), op.out.pending)
	op.j.stats.watermark.Store(op.state.watermark)
	op.j.stats.windows.Store(int64(op.state.open()))
	op.j.stats.pending.Store(int64(len(op.out.pending)))
	save, wait := op.out.due(now, op.caughtUp())
	if wait > 0 && op.wake == nil {
		// Look again when the gap has passed, not at the next tick.
		op.wake = op.j.cfg.Clock.AfterFunc(wait, op.poke)
	}
	if save {
		if err := op.save(ctx); err != nil {
			return err
		}
	}
	return op.flush(ctx)
}

// caughtUp says whether the job has applied all it has read, and read all
// there is.
func (op *operator[E, K, A, R]) caughtUp() bool {
	if len(op.msgs) > 0 {
		return false
	}
	for _, live := range op.active {
		if live.behind {
			return false
		}
	}
	return true
}

// watermark is the least of the shards' watermarks, leaving out idle
// shards — or with processing time, the clock.
func (op *operator[E, K, A, R]) watermark(now time.Time) int64 {
	if op.j.cfg.EventTime == nil {
		return now.UnixNano()
	}
	ooo := int64(op.j.cfg.MaxOutOfOrderness)
	wm, greatest, busy := int64(floor), int64(floor), false
	for key, live := range op.active {
		sh, ok := op.shards[key]
		shardWM := int64(floor)
		if ok && sh.MaxEventTime != floor {
			shardWM = satAdd(sh.MaxEventTime, -ooo)
		}
		greatest = max(greatest, shardWM)
		if now.Sub(live.lastActive) >= op.j.cfg.IdleTimeout {
			continue
		}
		if !busy || shardWM < wm {
			wm = shardWM
		}
		busy = true
	}
	if !busy {
		return greatest
	}
	return wm
}

// save writes a snapshot of the windows, shards and pending results.
func (op *operator[E, K, A, R]) save(ctx context.Context) error {
	err := op.out.save(ctx, func() ([]byte, error) { return op.state.encode(op.shards, op.out.pending) })
	if err != nil {
		return err
	}
	op.j.stats.snapshots.Store(op.out.version)
	if op.wake != nil {
		op.wake.Stop()
		op.wake = nil
	}
	op.j.publish(op.shards)
	return nil
}

// flush emits the pending results the last snapshot holds, retrying
// until they are taken or ctx ends: a crash before then emits the same
// results again.
func (op *operator[E, K, A, R]) flush(ctx context.Context) error {
	for {
		sent, err := op.out.emit(ctx, op.j.cfg.Output)
		if err == nil {
			op.j.stats.results.Add(int64(sent))
			op.j.stats.pending.Store(int64(len(op.out.pending)))
			return nil
		}
		op.j.cfg.Logger.Warn("analytics: emitting results failed; retrying", "job", op.j.cfg.Name, "results", op.out.fixed, "err", err)
		if err := sleep(ctx, op.j.cfg.Clock, retryPause); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, clock shardlog.Clock, d time.Duration) error {
	done := make(chan struct{})
	t := clock.AfterFunc(d, func() { close(done) })
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-done:
		return nil
	}
}

// processor consumes one shard for the job, decoding its records into
// events for the operator.
type processor[E any, K comparable, A, R any] struct {
	j     *Job[E, K, A, R]
	op    *operator[E, K, A, R]
	src   shardlog.StreamAPI
	id    string                  // the shard's ID
	shard string                  // "<stream>/<shard ID>"
	done  shardlog.SequenceNumber // the lease's checkpoint
}

func (j *Job[E, K, A, R]) newProcessor(op *operator[E, K, A, R], src shardlog.StreamAPI, shardID string) shardlog.RecordProcessor {
	return &processor[E, K, A, R]{j: j, op: op, src: src, id: shardID, shard: src.Name() + "/" + shardID}
}

// children lists the shards made of this one by a split or a merge.
func (p *processor[E, K, A, R]) children(ctx context.Context) ([]string, error) {
	var kids []string
	in := shardlog.ListShardsInput{ShardFilter: shardlog.ShardFilter{Type: shardlog.FilterAfterShardID, ShardID: p.id}}
	for {
		out, err := p.src.ListShards(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, sh := range out.Shards {
			if sh.ParentShardID == p.id || sh.AdjacentParentShardID == p.id {
				kids = append(kids, p.src.Name()+"/"+sh.ShardID)
			}
		}
		if out.NextToken == "" {
			return kids, nil
		}
		in = shardlog.ListShardsInput{NextToken: out.NextToken}
	}
}

func (p *processor[E, K, A, R]) send(ctx context.Context, m message[E, K]) error {
	m.shard = p.shard
	m.now = p.j.cfg.Clock.Now()
	select {
	case p.op.msgs <- m:
		return nil
	case <-p.op.stopped:
		return errStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *processor[E, K, A, R]) Initialize(ctx context.Context, in shardlog.InitializeInput) error {
	p.done = in.Checkpoint
	return p.send(ctx, message[E, K]{kind: msgOpen})
}

func (p *processor[E, K, A, R]) ProcessRecords(ctx context.Context, in shardlog.ProcessRecordsInput) error {
	if len(in.Records) > 0 {
		events, _ := p.op.events.Get().(*[]event[E, K])
		if events == nil {
			events = new([]event[E, K])
		}
		now := p.j.cfg.Clock.Now().UnixNano()
		evs := *events
		for i := range in.UserRecords {
			u := &in.UserRecords[i]
			if e, k, t, ok := p.j.decode(p.shard, u, now); ok {
				evs = append(evs, event[E, K]{e: e, k: k, t: t, seq: u.SequenceNumber})
			}
		}
		*events = evs
		last := in.Records[len(in.Records)-1].SequenceNumber
		m := message[E, K]{kind: msgBatch, events: events, last: last, behind: in.MillisBehindLatest > 0}
		if err := p.send(ctx, m); err != nil {
			return err
		}
	}
	return p.checkpoint(ctx, in.Checkpointer)
}

// errKeyNotItself rejects an event whose key is not equal to itself (a
// NaN): no window could be found again under it.
var errKeyNotItself = errors.New("analytics: the event's key is not equal to itself (a NaN?)")

// decode makes an event of a user record, with its key and time (the
// event time, or now); not ok for a record left out (ErrSkip) or
// rejected.
func (j *Job[E, K, A, R]) decode(shard string, u *shardlog.UserRecord, now int64) (e E, k K, t int64, ok bool) {
	e, err := j.cfg.Decode(*u)
	if err == nil {
		if k = j.cfg.Key(e); k != k {
			err = errKeyNotItself
		}
	}
	if err != nil {
		if !errors.Is(err, ErrSkip) {
			j.reject(shard, *u, err)
		}
		return e, k, 0, false
	}
	if j.cfg.EventTime != nil {
		return e, k, j.cfg.EventTime(e).UnixNano(), true
	}
	return e, k, now, true
}

func (j *Job[E, K, A, R]) reject(shard string, u shardlog.UserRecord, err error) {
	j.stats.rejected.Add(1)
	if j.cfg.Rejected != nil {
		j.cfg.Rejected(u, err)
		return
	}
	j.cfg.Logger.Warn("analytics: a record could not be decoded; skipped", "job", j.cfg.Name,
		"shard", shard, "sequenceNumber", u.SequenceNumber.String(), "subSequenceNumber", u.SubSequenceNumber, "err", err)
}

// checkpoint moves the lease to the last snapshot's position: never past
// what a snapshot holds, so a restart reads again whatever is not in it.
func (p *processor[E, K, A, R]) checkpoint(ctx context.Context, c *shardlog.Checkpointer) error {
	pos := p.j.savedPosition(p.shard)
	if pos.IsZero() || pos.Compare(p.done) <= 0 {
		return nil
	}
	if err := c.CheckpointAt(ctx, pos); err != nil {
		return err
	}
	p.done = pos
	return nil
}

func (p *processor[E, K, A, R]) LeaseLost(ctx context.Context, _ shardlog.LeaseLostInput) {
	_ = p.send(context.WithoutCancel(ctx), message[E, K]{kind: msgClose})
}

func (p *processor[E, K, A, R]) ShardEnded(ctx context.Context, in shardlog.ShardEndedInput) error {
	kids, err := p.children(ctx)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	if err := p.send(ctx, message[E, K]{kind: msgEnd, kids: kids, done: done}); err != nil {
		return err
	}
	select {
	case err := <-done:
		if err != nil {
			return err
		}
	case <-p.op.stopped:
		return errStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	return in.Checkpointer.Checkpoint(ctx)
}

func (p *processor[E, K, A, R]) ShutdownRequested(ctx context.Context, in shardlog.ShutdownRequestedInput) error {
	err := p.checkpoint(ctx, in.Checkpointer)
	_ = p.send(ctx, message[E, K]{kind: msgClose})
	return err
}
