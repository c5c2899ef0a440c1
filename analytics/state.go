package analytics

import (
	"container/heap"
	"math"

	"github.com/shardlog/shardlog/internal/hashkey"
)

// windows is a job's window state: every key's open windows, the
// watermark, and the results fired but not yet emitted. It is a pure
// function of the events and watermarks given to it, owned by one
// goroutine.
type windows[E any, K comparable, A, R any] struct {
	w        Window
	lateness int64
	agg      Aggregator[E, A, R]
	job      string // names results (see resultID)
	scratch  []byte

	watermark int64 // event time up to which windows are complete
	panes     map[paneKey[K]]*A
	scheduled map[paneKey[K]]struct{} // hopping windows with a due entry, by start
	sessions  map[K][]*sessionWindow[A]
	nSessions int // open sessions, of every key
	// hashes, in a job whose keys follow the partition key, is each open
	// key's hash key: where its windows go when the shard splits or merges.
	hashes map[K]hashkey.Key
	due    dueHeap[K, A]
	seq    uint64 // orders due entries of the same time as they were made
}

type paneKey[K comparable] struct {
	key   K
	start int64
}

type sessionWindow[A any] struct {
	start, end int64 // end is the last event plus the gap
	acc        A
	closed     bool
}

// due is a window to fire when the watermark reaches at.
type due[K comparable, A any] struct {
	at    int64 // the window's end plus the allowed lateness
	seq   uint64
	key   K
	start int64             // tumbling and hopping
	sess  *sessionWindow[A] // session; stale once closed or moved on
	end   int64             // session: its end when scheduled
}

type dueHeap[K comparable, A any] []due[K, A]

func (h dueHeap[K, A]) Len() int { return len(h) }
func (h dueHeap[K, A]) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h dueHeap[K, A]) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *dueHeap[K, A]) Push(x any)   { *h = append(*h, x.(due[K, A])) }
func (h *dueHeap[K, A]) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func newWindows[E any, K comparable, A, R any](w Window, lateness int64, agg Aggregator[E, A, R], job string) *windows[E, K, A, R] {
	return &windows[E, K, A, R]{
		w: w, lateness: lateness, agg: agg, job: job,
		watermark: math.MinInt64,
		panes:     map[paneKey[K]]*A{},
		scheduled: map[paneKey[K]]struct{}{},
		sessions:  map[K][]*sessionWindow[A]{},
	}
}

// closedBy says whether a window ending at end has been fired (or would
// be) at watermark wm.
func (s *windows[E, K, A, R]) closedBy(end, wm int64) bool {
	return wm != math.MinInt64 && satAdd(end, s.lateness) <= wm
}

// add folds an event at time t into its key's windows. It returns false,
// changing nothing, for an event too late: every window it belongs to has
// already fired.
func (s *windows[E, K, A, R]) add(k K, t int64, e E) bool {
	if s.w.kind == session {
		return s.addSession(k, t, e)
	}
	last := s.w.lastStart(t)
	if s.closedBy(satAdd(last, s.w.size), s.watermark) {
		return false
	}
	pk := paneKey[K]{k, floorDiv(t, s.w.pane()) * s.w.pane()}
	acc, ok := s.panes[pk]
	if !ok {
		a := s.agg.Zero()
		acc = &a
		s.panes[pk] = acc
		s.schedule(k, pk.start)
	}
	*acc = s.agg.Add(*acc, e)
	return true
}

// schedule makes due entries for the windows a new pane starting at p is
// in and that are still open.
func (s *windows[E, K, A, R]) schedule(k K, p int64) {
	if s.w.kind == tumbling {
		s.push(due[K, A]{at: satAdd(satAdd(p, s.w.size), s.lateness), key: k, start: p})
		return
	}
	for start := s.w.lastStart(p); start > p-s.w.size; start -= s.w.slide {
		end := satAdd(start, s.w.size)
		if s.closedBy(end, s.watermark) {
			break
		}
		wk := paneKey[K]{k, start}
		if _, ok := s.scheduled[wk]; ok {
			continue
		}
		s.scheduled[wk] = struct{}{}
		s.push(due[K, A]{at: satAdd(end, s.lateness), key: k, start: start})
	}
}

func (s *windows[E, K, A, R]) push(d due[K, A]) {
	s.seq++
	d.seq = s.seq
	heap.Push(&s.due, d)
}

func (s *windows[E, K, A, R]) addSession(k K, t int64, e E) bool {
	start, end := t, satAdd(t, s.w.gap)
	open := s.sessions[k]
	var merged *sessionWindow[A]
	var before int64 // merged's end when found: a new end needs a new due entry
	kept := open[:0]
	for _, sw := range open {
		// Sessions merge when they overlap: an event gap or more after
		// the last starts a new one, so a session the watermark has
		// closed is never one a later event belongs to.
		if sw.start < end && start < sw.end {
			if merged == nil {
				merged, before = sw, sw.end
			} else {
				merged.acc = s.agg.Merge(merged.acc, sw.acc)
				merged.start, merged.end = min(merged.start, sw.start), max(merged.end, sw.end)
				sw.closed = true
				s.nSessions--
				continue
			}
		}
		kept = append(kept, sw)
	}
	if merged == nil {
		if s.closedBy(end, s.watermark) {
			return false
		}
		merged = &sessionWindow[A]{start: start, end: end, acc: s.agg.Zero()}
		before = math.MinInt64
		kept = append(kept, merged)
		s.nSessions++
	}
	s.sessions[k] = kept
	merged.acc = s.agg.Add(merged.acc, e)
	merged.start, merged.end = min(merged.start, start), max(merged.end, end)
	if merged.end != before {
		s.push(due[K, A]{at: satAdd(merged.end, s.lateness), key: k, sess: merged, end: merged.end})
	}
	return true
}

// absorb takes from o, a parent shard's windows, those of the keys keep
// wants: a child shard's share. The watermark becomes the greater.
func (s *windows[E, K, A, R]) absorb(o *windows[E, K, A, R], keep func(hashkey.Key) bool) {
	s.watermark = max(s.watermark, o.watermark)
	mine := func(k K) bool {
		h, ok := o.hashes[k]
		if ok && keep(h) {
			s.hashes[k] = h
			return true
		}
		return false
	}
	for pk, acc := range o.panes {
		if mine(pk.key) {
			s.panes[pk] = acc
		}
	}
	for wk := range o.scheduled {
		if mine(wk.key) {
			s.scheduled[wk] = struct{}{}
		}
	}
	for _, d := range o.due {
		if d.sess != nil && (d.sess.closed || d.sess.end != d.end) {
			continue
		}
		if mine(d.key) {
			if d.sess != nil {
				s.sessions[d.key] = append(s.sessions[d.key], d.sess)
				s.nSessions++
			}
			s.push(d)
		}
	}
}

// open counts the open windows: panes, or sessions.
func (s *windows[E, K, A, R]) open() int {
	return len(s.panes) + s.nSessions
}

// advance raises the watermark to wm (it never falls) and fires every
// window it closes, in the order they close, appending their results to
// out.
func (s *windows[E, K, A, R]) advance(wm int64, out []Result[K, R]) []Result[K, R] {
	if wm <= s.watermark {
		return out
	}
	s.watermark = wm
	for len(s.due) > 0 && s.due[0].at <= wm {
		d := heap.Pop(&s.due).(due[K, A])
		switch {
		case d.sess != nil:
			if d.sess.closed || d.sess.end != d.end {
				continue // merged away, or extended: a later entry fires it
			}
			out = append(out, s.result(d.key, d.sess.start, d.sess.end, d.sess.acc))
			s.closeSession(d.key, d.sess)
		case s.w.kind == tumbling:
			pk := paneKey[K]{d.key, d.start}
			out = append(out, s.result(d.key, d.start, d.start+s.w.size, *s.panes[pk]))
			delete(s.panes, pk)
		default:
			out = append(out, s.fireHopping(d.key, d.start))
		}
	}
	return out
}

func (s *windows[E, K, A, R]) fireHopping(k K, start int64) Result[K, R] {
	pane := s.w.pane()
	acc := s.agg.Zero()
	for p := start; p < start+s.w.size; p += pane {
		if a, ok := s.panes[paneKey[K]{k, p}]; ok {
			acc = s.agg.Merge(acc, *a)
		}
	}
	delete(s.scheduled, paneKey[K]{k, start})
	// Panes whose last window this was are done.
	for p := start; p < start+s.w.slide; p += pane {
		delete(s.panes, paneKey[K]{k, p})
	}
	return s.result(k, start, start+s.w.size, acc)
}

func (s *windows[E, K, A, R]) closeSession(k K, sw *sessionWindow[A]) {
	sw.closed = true
	s.nSessions--
	open := s.sessions[k]
	for i, x := range open {
		if x == sw {
			open = append(open[:i], open[i+1:]...)
			break
		}
	}
	if len(open) == 0 {
		delete(s.sessions, k)
	} else {
		s.sessions[k] = open
	}
}

func (s *windows[E, K, A, R]) result(k K, start, end int64, acc A) Result[K, R] {
	return Result[K, R]{
		ID:    resultID(&s.scratch, s.job, k, start, end),
		Key:   k,
		Start: unixNano(start),
		End:   unixNano(end),
		Value: s.agg.Result(acc),
	}
}

// satAdd adds without wrapping past the ends of int64.
func satAdd(a, b int64) int64 {
	c := a + b
	switch {
	case b > 0 && c < a:
		return math.MaxInt64
	case b < 0 && c > a:
		return math.MinInt64
	}
	return c
}
