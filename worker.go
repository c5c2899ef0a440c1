package shardlog

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
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
	seen    map[string]observed // when each lease's counter last changed
	timer   Timer
	stopped bool
	wg      sync.WaitGroup // consumers
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

	mu      sync.Mutex // guards the three below; orders renewals and checkpoints
	lease   Lease      // as last written
	lost    bool
	renewed time.Time // when the lease was last written

	running bool          // a consumer runs (guarded by worker.mu)
	quit    chan struct{} // closed to stop the consumer
	why     stopReason    // set before quit is closed
}

type stopReason int

const (
	stopShutdown stopReason = iota
	stopLost
)

func newWorker(src groupSource, table string, cfg WorkerConfig) *worker {
	return &worker{
		src: src, cfg: cfg, table: table,
		held: map[string]*heldLease{}, seen: map[string]observed{},
	}
}

func (w *worker) run(ctx context.Context) error {
	w.ctx, w.stop = context.WithCancel(context.Background())
	defer w.stop()
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
	w.mu.Lock()
	w.scheduleLocked() // first: the timer is set before any processor runs
	w.passLocked()
	w.mu.Unlock()

	err := w.src.wait(ctx)
	w.shutdown(err == nil)
	return err
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
// processors checkpoint and then frees the leases.
func (w *worker) shutdown(graceful bool) {
	w.mu.Lock()
	w.stopped = true
	w.timer.Stop()
	for _, h := range w.held {
		w.stopConsumerLocked(h, stopShutdown)
	}
	w.mu.Unlock()
	w.wg.Wait()
	w.stop()
	if !graceful {
		return
	}
	for _, h := range w.held {
		h.mu.Lock()
		if !h.lost {
			free := h.lease
			free.Owner, free.Counter = "", h.lease.Counter+1
			_ = w.cfg.Leases.Swap(context.Background(), w.table, &h.lease, free)
		}
		h.mu.Unlock()
	}
}

// passLocked renews the worker's leases, creates leases for new shards,
// takes a fair share and starts the consumers that can start.
func (w *worker) passLocked() {
	ctx := w.ctx
	now := w.cfg.Clock.Now()
	w.renewLocked(ctx, now)
	leases, err := w.cfg.Leases.Leases(ctx, w.table)
	if err != nil {
		w.cfg.Logger.Warn("shardlog: could not list leases", "table", w.table, "err", err)
		return
	}
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

// renewLocked raises the counter of every lease held; a lease that changed
// meanwhile was taken by another worker.
func (w *worker) renewLocked(ctx context.Context, now time.Time) {
	for key, h := range w.held {
		h.mu.Lock()
		if h.lost {
			h.mu.Unlock()
			w.stopConsumerLocked(h, stopLost)
			delete(w.held, key)
			continue
		}
		next := h.lease
		next.Counter++
		err := w.cfg.Leases.Swap(ctx, w.table, &h.lease, next)
		switch {
		case err == nil:
			h.lease, h.renewed = next, now
		case errors.Is(err, ErrLeaseConflict):
			h.lost = true
		case now.Sub(h.renewed) >= w.cfg.FailoverTime:
			// Others may have taken it by now.
			w.cfg.Logger.Warn("shardlog: could not renew a lease for the failover time; letting it go", "shard", key, "err", err)
			h.lost = true
		}
		lost := h.lost
		h.mu.Unlock()
		if lost {
			w.stopConsumerLocked(h, stopLost)
			delete(w.held, key)
		}
	}
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

// takeLocked takes leases up to the worker's fair share: free or expired
// ones first, else one from the busiest worker.
func (w *worker) takeLocked(ctx context.Context, now time.Time, leases []Lease) {
	me := w.cfg.WorkerID
	load := map[string]int{me: 0}
	var free []Lease
	active := 0
	for _, l := range leases {
		if l.ShardEnd {
			continue
		}
		active++
		switch {
		case l.Owner == me && w.held[l.Key] != nil:
			load[me]++
		case l.Owner == "" || l.Owner == me || now.Sub(w.seen[l.Key].at) >= w.cfg.FailoverTime:
			free = append(free, l)
		default:
			load[l.Owner]++
		}
	}
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
	if taken > 0 || len(free) > 0 {
		return
	}
	// Nothing free: steal one lease from the busiest worker, if it has more
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
		if l.Owner == busiest && !l.ShardEnd && (victim == nil || compareShardIDs(l.Key, victim.Key) > 0) {
			victim = l // the newest: the busiest keeps the shards it is likely furthest into
		}
	}
	w.takeLocked1(ctx, now, *victim)
}

// takeLocked1 takes lease l, reporting whether it did.
func (w *worker) takeLocked1(ctx context.Context, now time.Time, l Lease) bool {
	mine := l
	mine.Owner, mine.Counter = w.cfg.WorkerID, l.Counter+1
	if w.cfg.Leases.Swap(ctx, w.table, &l, mine) != nil {
		return false
	}
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
// is not 0.
func (w *worker) checkpointSub(ctx context.Context, h *heldLease, seq SequenceNumber, sub int64, end bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lost {
		return ErrLeaseLost
	}
	next := h.lease
	next.Counter++
	next.Checkpoint, next.CheckpointSubSequence, next.ShardEnd = seq, sub, end
	err := w.cfg.Leases.Swap(ctx, w.table, &h.lease, next)
	switch {
	case err == nil:
		h.lease = next
		return nil
	case errors.Is(err, ErrLeaseConflict):
		h.lost = true
		return ErrLeaseLost
	}
	return err
}

func compareShardIDs(a, b string) int {
	i, _ := parseShardIndex(a)
	j, _ := parseShardIndex(b)
	return cmp.Compare(i, j)
}
