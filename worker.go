package shardlog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// worker is one RunWorker call: it holds some of a group's leases and runs
// a shard consumer for each. Its coordination pass (renew, create, take,
// start) runs on the account clock every third of the failover time, in a
// clock timer, so that under a ManualClock a test's Advance has finished
// it when it returns.
type worker struct {
	src   groupSource
	cfg   WorkerConfig
	table string
	// consumerARN is the group's registered consumer in enhanced fan-out
	// mode; "" when polling.
	consumerARN string
	ctx         context.Context // cancelled when the worker stops
	stop        context.CancelFunc

	mu      sync.Mutex // guards the fields below; held through a pass
	held    map[string]*heldLease
	seen    map[string]observed  // when each lease's counter last changed
	asked   map[string]time.Time // leases this worker asked to be handed, since when
	timer   Timer
	stopped bool
	wg      sync.WaitGroup // consumers

	nudgeMu sync.Mutex // guards nudgeT
	nudgeT  Timer      // a pass asked for by a lease changing hands; nil if none

	failed  context.CancelCauseFunc // ends the worker with an error (set by run)
	failure atomic.Pointer[error]   // why, once failed
}

// observed is what a worker last saw of a lease: it is expired once its
// counter stays put for the failover time.
type observed struct {
	owner   string
	counter int64
	at      time.Time
}

// heldLease is a lease the worker holds.
type heldLease struct {
	key string

	mu      sync.Mutex // guards the five below; orders renewals and checkpoints
	lease   Lease      // as last written
	lost    bool
	handoff bool      // a successor asked for it: hand it over once the processor has had its say
	renewed time.Time // when the lease was last written
	strange int       // passes in a row that found it rewritten under this worker's ID

	running bool               // a consumer runs (guarded by worker.mu, as the three below)
	quit    chan struct{}      // closed to stop the consumer
	why     stopReason         // set before quit is closed
	cancel  context.CancelFunc // ends the processor's context
}

type stopReason int

const (
	stopShutdown stopReason = iota
	stopLost
	stopHandoff // a successor asked for the lease
)

// ErrWorkerIDInUse ends a worker that finds another worker using its
// WorkerID: a lease it holds, or one that names it, was renewed by someone
// else under its ID. WorkerIDs must be unique among a group's workers, in
// every process; the default is.
var ErrWorkerIDInUse = errors.New("shardlog: another worker of the group uses this WorkerID")

func newWorker(src groupSource, table string, cfg WorkerConfig) *worker {
	return &worker{
		src: src, cfg: cfg, table: table,
		held: map[string]*heldLease{}, seen: map[string]observed{}, asked: map[string]time.Time{},
	}
}

func (w *worker) run(ctx context.Context) error {
	w.ctx, w.stop = context.WithCancel(context.Background())
	defer w.stop()
	ctx, w.failed = context.WithCancelCause(ctx)
	defer w.failed(nil)
	if w.cfg.EnhancedFanOut {
		c, err := w.fanOutConsumer(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		w.consumerARN = c.ConsumerARN
	}
	if lw, ok := w.cfg.Leases.(leaseWatcher); ok {
		defer lw.watch(w.table, w.nudge)()
	}
	w.mu.Lock()
	w.scheduleLocked() // first: the timer is set before any processor runs
	w.passLocked()
	w.mu.Unlock()

	err := w.src.wait(ctx)
	if p := w.failure.Load(); p != nil {
		w.shutdown(false) // the leases are not this worker's alone to free
		return *p
	}
	w.shutdown(err == nil)
	return err
}

// fail ends the worker with err.
func (w *worker) fail(err error) {
	if w.failure.CompareAndSwap(nil, &err) {
		w.cfg.Logger.Error("shardlog: a group worker stops", "application", w.cfg.Application, "worker", w.cfg.WorkerID, "err", err)
		w.failed(err)
	}
}

// nudge runs a pass soon, on the worker's clock: a lease of the group
// changed hands, freed, handed over or asked for, and this worker may
// take it or has to hand it over. It runs in the writer's call: it only
// sets a timer.
func (w *worker) nudge() {
	w.nudgeMu.Lock()
	defer w.nudgeMu.Unlock()
	if w.nudgeT != nil {
		return
	}
	w.nudgeT = w.cfg.Clock.AfterFunc(0, func() {
		w.nudgeMu.Lock()
		w.nudgeT = nil
		w.nudgeMu.Unlock()
		w.kick()
	})
}

func (w *worker) interval() time.Duration { return w.cfg.FailoverTime / 3 }

func (w *worker) scheduleLocked() {
	w.timer = w.cfg.Clock.AfterFunc(w.interval(), func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.stopped {
			return
		}
		w.passLocked()
		w.scheduleLocked()
	})
}

// kick runs a pass now: a shard ended, and its children may start.
func (w *worker) kick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.passLocked()
	}
}

// shutdown stops the coordination and the consumers; graceful, it lets
// processors checkpoint and then frees the leases, telling the other
// workers (on the account's store) so that they take them at once.
func (w *worker) shutdown(graceful bool) {
	w.mu.Lock()
	w.stopped = true
	w.timer.Stop()
	for _, h := range w.held {
		w.stopConsumerLocked(h, stopShutdown)
	}
	w.mu.Unlock()
	w.nudgeMu.Lock()
	if w.nudgeT != nil {
		w.nudgeT.Stop()
	}
	w.nudgeMu.Unlock()
	w.wg.Wait()
	w.stop()
	if !graceful {
		return
	}
	ctx := context.Background()
	for _, h := range w.held {
		h.mu.Lock()
		if !h.lost {
			free := h.lease
			free.Owner, free.Successor, free.Counter = "", "", h.lease.Counter+1
			_ = w.cfg.Leases.Swap(ctx, w.table, &h.lease, free)
		}
		h.mu.Unlock()
	}
	// Leases handed to this worker that it had yet to take, and those it
	// asked for, go back too.
	leases, err := w.cfg.Leases.Leases(ctx, w.table)
	if err != nil {
		return
	}
	me := w.cfg.WorkerID
	for _, l := range leases {
		if l.ShardEnd || l.Owner != me && l.Successor != me || w.held[l.Key] != nil {
			continue
		}
		next := l
		if next.Owner == me {
			next.Owner = ""
		}
		next.Successor, next.Counter = "", l.Counter+1
		_ = w.cfg.Leases.Swap(ctx, w.table, &l, next)
	}
}

// passLocked renews the worker's leases, creates leases for new shards,
// takes a fair share and starts the consumers that can start.
func (w *worker) passLocked() {
	ctx := w.ctx
	now := w.cfg.Clock.Now()
	leases, err := w.cfg.Leases.Leases(ctx, w.table)
	if err != nil {
		w.cfg.Logger.Warn("shardlog: could not list leases", "table", w.table, "err", err)
		w.renewLocked(ctx, now, nil)
		return
	}
	w.renewLocked(ctx, now, leases)
	if w.createLeases(ctx, now, leases) {
		if leases, err = w.cfg.Leases.Leases(ctx, w.table); err != nil {
			return
		}
	}
	w.observe(now, leases)
	w.takeLocked(ctx, now, leases)
	byKey := make(map[string]*Lease, len(leases))
	for i := range leases {
		byKey[leases[i].Key] = &leases[i]
	}
	for _, h := range w.held {
		if !h.running && w.parentsDone(h, byKey) {
			w.startConsumerLocked(h)
		}
	}
}

// renewLocked raises the counter of every lease held, after reconciling
// it with the store's (leases, nil if they could not be listed): a lease
// another worker wrote was taken, or asked for.
func (w *worker) renewLocked(ctx context.Context, now time.Time, leases []Lease) {
	current := make(map[string]Lease, len(leases))
	for _, l := range leases {
		current[l.Key] = l
	}
	for key, h := range w.held {
		h.mu.Lock()
		if cur, ok := current[key]; ok && !h.lost {
			w.reconcileLocked(h, cur)
		}
		if !h.lost {
			next := h.lease
			next.Counter++
			err := w.cfg.Leases.Swap(ctx, w.table, &h.lease, next)
			switch {
			case err == nil:
				h.lease, h.renewed = next, now
			case now.Sub(h.renewed) >= w.cfg.FailoverTime:
				// Others may have taken it by now.
				w.cfg.Logger.Warn("shardlog: could not renew a lease for the failover time; letting it go", "shard", key, "err", err)
				h.lost = true
			}
			// A conflict is reconciled at the next pass.
		}
		if h.handoff && !h.running {
			w.handOffLocked(h) // no processor to wait for
		}
		lost, handoff := h.lost, h.handoff
		h.mu.Unlock()
		switch {
		case lost:
			w.stopConsumerLocked(h, stopLost)
			delete(w.held, key)
		case handoff:
			w.stopConsumerLocked(h, stopHandoff)
		}
	}
}

// reconcileLocked compares h with the store's lease cur, which another
// worker may have written since h was (its counter is then higher): to ask
// for it (a successor), to take it (a new owner), to withdraw its ask (it
// stopped), or, under this worker's own ID, a worker that should not
// exist: one that moved the checkpoint. h.mu is held.
func (w *worker) reconcileLocked(h *heldLease, cur Lease) {
	switch {
	case cur.Counter <= h.lease.Counter:
		// As written, or read before a later write of this worker: every
		// write is conditional, so another's has a higher counter.
		h.strange = 0
	case cur.Owner != w.cfg.WorkerID:
		h.lost = true
	case cur.Successor != "" && cur.Successor != w.cfg.WorkerID:
		h.lease, h.handoff = cur, true
	case samePlace(cur, h.lease) && h.strange < strangeLimit:
		// An ask withdrawn (the asker stopped): the lease is this
		// worker's as before. A second worker under this ID that only
		// renews looks the same, but at every pass.
		h.lease = cur
		h.strange++
	default:
		h.lost = true
		w.fail(fmt.Errorf("%w: %q: lease %s was renewed by another worker under it", ErrWorkerIDInUse, w.cfg.WorkerID, h.key))
	}
}

// handOff makes h's successor its owner, once h's processor has had its
// say, and forgets the lease.
func (w *worker) handOff(h *heldLease) {
	h.mu.Lock()
	w.handOffLocked(h)
	h.mu.Unlock()
	w.mu.Lock()
	if w.held[h.key] == h {
		delete(w.held, h.key)
	}
	w.mu.Unlock()
}

// handOffLocked writes h's successor as its owner; if the successor took
// it meanwhile, so be it. The lease is then lost to this worker. h.mu is
// held.
func (w *worker) handOffLocked(h *heldLease) {
	if h.lost {
		return
	}
	next := h.lease
	next.Owner, next.Successor, next.Counter = h.lease.Successor, "", h.lease.Counter+1
	if err := w.cfg.Leases.Swap(w.ctx, w.table, &h.lease, next); err == nil {
		h.lease = next
	}
	h.lost = true
}

// createLeases makes a lease for every shard without one, reporting
// whether it wrote any.
func (w *worker) createLeases(ctx context.Context, now time.Time, leases []Lease) bool {
	have := make(map[string]bool, len(leases))
	for _, l := range leases {
		have[l.Key] = true
	}
	created := false
	for _, l := range w.src.newLeases(ctx, now, &w.cfg, have) {
		if w.cfg.Leases.Swap(ctx, w.table, nil, l) == nil {
			created = true
		}
	}
	return created
}

// observe notes which leases' counters moved.
func (w *worker) observe(now time.Time, leases []Lease) {
	for _, l := range leases {
		if o, ok := w.seen[l.Key]; !ok || o.counter != l.Counter || o.owner != l.Owner {
			w.seen[l.Key] = observed{owner: l.Owner, counter: l.Counter, at: now}
		}
	}
}

// takeLocked takes back every lease that names the worker (it restarted,
// or the lease was handed to it), then leases up to its fair share: free
// or expired ones first, else it asks the busiest worker to hand one over
// (taking it after the failover time if it does not).
func (w *worker) takeLocked(ctx context.Context, now time.Time, leases []Lease) {
	me := w.cfg.WorkerID
	load := map[string]int{me: 0}
	var free []Lease
	active := 0
	asked := make(map[string]time.Time, len(w.asked))
	for _, l := range leases {
		if l.ShardEnd {
			continue
		}
		active++
		switch {
		case w.held[l.Key] != nil:
			load[me]++
		case l.Owner == me:
			if w.takeLocked1(ctx, now, l) {
				load[me]++
			}
		case l.Owner == "" || now.Sub(w.seen[l.Key].at) >= w.cfg.FailoverTime:
			free = append(free, l)
		case l.Successor == me:
			since, ok := w.asked[l.Key]
			if !ok {
				since = now
			}
			asked[l.Key] = since
			if now.Sub(since) >= w.cfg.FailoverTime {
				// Not handed over in the failover time: taken as is.
				w.cfg.Logger.Warn("shardlog: a worker did not hand a lease over; taking it", "shard", l.Key, "owner", l.Owner)
				w.takeLocked1(ctx, now, l)
			}
			load[me]++ // on its way
		default:
			load[l.Owner]++
		}
	}
	w.asked = asked
	target := (active + len(load) - 1) / len(load)
	need := target - load[me]
	if need <= 0 {
		return
	}
	slices.SortFunc(free, func(a, b Lease) int { return compareShardIDs(a.Key, b.Key) })
	taken := 0
	for _, l := range free {
		if taken == need {
			break
		}
		if w.takeLocked1(ctx, now, l) {
			taken++
		}
	}
	if taken > 0 || len(free) > 0 || len(asked) > 0 {
		return
	}
	// Nothing free: ask the busiest worker for one lease, if it has more
	// than its share (or its share, while this one lacks more than one).
	busiest := ""
	for owner, n := range load {
		if owner != me && (busiest == "" || n > load[busiest] || n == load[busiest] && owner < busiest) {
			busiest = owner
		}
	}
	if busiest == "" || load[busiest] < target || load[busiest] == target && need < 2 {
		return
	}
	var victim *Lease
	for i := range leases {
		l := &leases[i]
		if l.Owner == busiest && !l.ShardEnd && l.Successor == "" && (victim == nil || compareShardIDs(l.Key, victim.Key) > 0) {
			victim = l // the newest: the busiest keeps the shards it is likely furthest into
		}
	}
	if victim == nil {
		return
	}
	ask := *victim
	ask.Successor, ask.Counter = me, victim.Counter+1
	switch err := w.cfg.Leases.Swap(ctx, w.table, victim, ask); {
	case err == nil:
		w.asked[victim.Key] = now
	case errors.Is(err, ErrLeaseConflict):
		w.nudge() // its owner renewed it meanwhile: ask again now, not a pass later
	}
}

// takeLocked1 takes lease l, reporting whether it did. If l changed
// meanwhile, another pass runs soon, on what it became.
func (w *worker) takeLocked1(ctx context.Context, now time.Time, l Lease) bool {
	mine := l
	mine.Owner, mine.Successor, mine.Counter = w.cfg.WorkerID, "", l.Counter+1
	if err := w.cfg.Leases.Swap(ctx, w.table, &l, mine); err != nil {
		if errors.Is(err, ErrLeaseConflict) {
			w.nudge()
		}
		return false
	}
	delete(w.asked, l.Key)
	w.held[l.Key] = &heldLease{key: l.Key, lease: mine, renewed: now}
	return true
}

// parentsDone reports whether h's shard may start: each parent's lease
// ended, or the parent is gone (expired) and has no lease.
func (w *worker) parentsDone(h *heldLease, byKey map[string]*Lease) bool {
	for _, p := range h.lease.Parents {
		if l := byKey[p]; l != nil {
			if !l.ShardEnd {
				return false
			}
		} else if w.src.exists(p) {
			return false // its lease is yet to be made
		}
	}
	return true
}

// stillHolds reports whether the store still has h as this worker wrote it
// last (a failed read counts as held: renewal will tell).
func (w *worker) stillHolds(h *heldLease) bool {
	leases, err := w.cfg.Leases.Leases(w.ctx, w.table)
	if err != nil {
		return true
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, l := range leases {
		if l.Key == h.key {
			return l.Owner == h.lease.Owner && l.Counter == h.lease.Counter
		}
	}
	return false
}

// loseLease gives up h: another worker has it.
func (w *worker) loseLease(h *heldLease) {
	h.mu.Lock()
	h.lost = true
	h.mu.Unlock()
	w.mu.Lock()
	w.stopConsumerLocked(h, stopLost)
	w.mu.Unlock()
}

// checkpoint writes a checkpoint of h's shard.
func (w *worker) checkpoint(ctx context.Context, h *heldLease, seq SequenceNumber, end bool) error {
	return w.checkpointSub(ctx, h, seq, 0, end)
}

// checkpointSub writes a checkpoint of h's shard, inside an aggregate if sub
// is not 0. A lease that a successor asked for meanwhile is checkpointed
// all the same: the checkpoint is what the hand-off waits for.
func (w *worker) checkpointSub(ctx context.Context, h *heldLease, seq SequenceNumber, sub int64, end bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for retried := false; ; retried = true {
		if h.lost {
			if p := w.failure.Load(); p != nil {
				return *p
			}
			return ErrLeaseLost
		}
		next := h.lease
		next.Counter++
		next.Checkpoint, next.CheckpointSubSequence, next.ShardEnd = seq, sub, end
		err := w.cfg.Leases.Swap(ctx, w.table, &h.lease, next)
		if err == nil {
			h.lease = next
			return nil
		}
		if !errors.Is(err, ErrLeaseConflict) {
			return err
		}
		if retried {
			h.lost = true
			continue
		}
		// Written by another worker since: read it again.
		leases, err := w.cfg.Leases.Leases(ctx, w.table)
		if err != nil {
			return err
		}
		h.lost = true
		for _, l := range leases {
			if l.Key == h.key {
				h.lost = false
				w.reconcileLocked(h, l)
			}
		}
	}
}

// strangeLimit is how many passes in a row may find a lease rewritten
// under this worker's ID, the checkpoint where it was, before the worker
// concludes that another uses its ID: one is an ask withdrawn.
const strangeLimit = 2

// samePlace reports whether two writes of a lease leave processing at the
// same place.
func samePlace(a, b Lease) bool {
	return a.Checkpoint == b.Checkpoint && a.CheckpointSubSequence == b.CheckpointSubSequence && a.ShardEnd == b.ShardEnd
}

func compareShardIDs(a, b string) int {
	i, _ := parseShardIndex(a)
	j, _ := parseShardIndex(b)
	return cmp.Compare(i, j)
}
