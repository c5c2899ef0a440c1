package shardlog

import (
	"container/heap"
	"context"
	"errors"
	"math"
	"sync"
	"time"
)

// Clock is the source of time for an [Account]. Every time rule — stream
// status delays, iterator and token expiry, rate limits, retention — is a
// function of the state and Clock.Now, so a test that controls the clock
// controls all of them.
//
// AfterFunc schedules f to run once the clock reaches now+d, in its own
// goroutine or in the caller of the method that advanced the clock; it is
// used by features that must act at a time (subscription heartbeats and
// lifetimes). Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not started, reporting whether it did.
	Stop() bool
}

// SystemClock returns the wall clock.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time                            { return time.Now() }
func (systemClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// ManualClock is a Clock that moves only when told to. Timers due at or
// before the new time fire, in time order, inside Advance or Set. The zero
// value is not usable; call [NewManualClock]. It is safe for concurrent use.
type ManualClock struct {
	mu     sync.Mutex // guards now, timers, seq and added
	now    time.Time
	timers timerHeap
	seq    uint64
	added  chan struct{} // closed when a timer is added (made by BlockUntil)
}

// NewManualClock returns a clock stopped at start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start}
}

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d and runs the timers that became due.
// A negative d panics.
func (c *ManualClock) Advance(d time.Duration) {
	if d < 0 {
		panic("shardlog: ManualClock.Advance with a negative duration")
	}
	c.mu.Lock()
	t := c.now.Add(d)
	c.mu.Unlock()
	c.Set(t)
}

// Set moves the clock to t, which may be earlier than now (timers then wait
// for the clock to come back), and runs the timers that became due.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	for len(c.timers) > 0 && !c.timers[0].when.After(c.now) {
		mt := heap.Pop(&c.timers).(*manualTimer)
		mt.fired = true
		c.mu.Unlock()
		mt.f()
		c.mu.Lock()
	}
	c.mu.Unlock()
}

// AfterFunc schedules f for now+d. With d <= 0 it runs at the next Advance
// or Set, not synchronously.
func (c *ManualClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	mt := &manualTimer{clock: c, when: c.now.Add(d), seq: c.seq, f: f}
	heap.Push(&c.timers, mt)
	if c.added != nil {
		close(c.added)
		c.added = nil
	}
	return mt
}

// BlockUntil waits until at least n timers are pending (scheduled and
// neither run nor stopped), or ctx is done. A test calls it before Advance
// to know that a call it started on another goroutine waits on the clock:
// a delayed call, a retry backoff, a subscription's heartbeat.
func (c *ManualClock) BlockUntil(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		if len(c.timers) >= n {
			c.mu.Unlock()
			return nil
		}
		if c.added == nil {
			c.added = make(chan struct{})
		}
		added := c.added
		c.mu.Unlock()
		select {
		case <-added:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

type manualTimer struct {
	clock *ManualClock
	when  time.Time
	seq   uint64 // breaks ties in scheduling order
	f     func()
	index int  // position in the heap, -1 when not in it
	fired bool // popped for running, or stopped
}

func (t *manualTimer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.fired || t.index < 0 {
		return false
	}
	heap.Remove(&c.timers, t.index)
	t.fired = true
	return true
}

type timerHeap []*manualTimer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].when.Equal(h[j].when) {
		return h[i].seq < h[j].seq
	}
	return h[i].when.Before(h[j].when)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*manualTimer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	t.index = -1
	*h = old[:len(old)-1]
	return t
}

// Times a caller passes in may lie far outside the range of int64
// milliseconds (time.Time spans billions of years), where UnixMilli
// overflows.
var (
	minMilliTime = time.UnixMilli(math.MinInt64)
	maxMilliTime = time.UnixMilli(math.MaxInt64)
)

// unixMilli is t.UnixMilli saturated to the int64 range, for times that
// come from callers.
func unixMilli(t time.Time) int64 {
	switch {
	case t.Before(minMilliTime):
		return math.MinInt64
	case t.After(maxMilliTime):
		return math.MaxInt64
	}
	return t.UnixMilli()
}

// errStopped is sleep's answer when its stop channel closed first.
var errStopped = errors.New("shardlog: stopped")

// Sleep waits d on clk (a ManualClock's Advance ends it), or until ctx is
// done, when it returns ctx's error.
func Sleep(ctx context.Context, clk Clock, d time.Duration) error { return sleep(ctx, clk, d, nil) }

// sleep waits d on clk. It returns early with ctx's error once ctx is
// done, or with errStopped once stop is closed (a nil stop never is).
func sleep(ctx context.Context, clk Clock, d time.Duration, stop <-chan struct{}) error {
	done := make(chan struct{})
	t := clk.AfterFunc(d, func() { close(done) })
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-stop:
		return errStopped
	}
}

// repeater runs a function every interval of a clock, one run at a time,
// until stopped: a Clock's timers fire once, so each run arms the next.
type repeater struct {
	clk   Clock
	every time.Duration
	run   func()
	wg    *sync.WaitGroup // counts a run in progress, for Close to wait on

	mu      sync.Mutex // guards timer and stopped
	timer   Timer
	stopped bool
}

// repeat starts running run every interval of clk.
func repeat(clk Clock, every time.Duration, wg *sync.WaitGroup, run func()) *repeater {
	r := &repeater{clk: clk, every: every, run: run, wg: wg}
	r.mu.Lock()
	r.timer = clk.AfterFunc(every, r.tick)
	r.mu.Unlock()
	return r
}

func (r *repeater) tick() {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.wg.Add(1)
	r.mu.Unlock()
	defer r.wg.Done()
	r.run()
	r.mu.Lock()
	if !r.stopped {
		r.timer = r.clk.AfterFunc(r.every, r.tick)
	}
	r.mu.Unlock()
}

// stop ends the runs; one in progress finishes (wg waits for it). A nil
// repeater is stopped already.
func (r *repeater) stop() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	r.timer.Stop()
}
