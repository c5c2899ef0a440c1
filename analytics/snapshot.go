package analytics

import (
	"cmp"
	"container/heap"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/shardlog/shardlog"
)

// snapshot is what a Store keeps of a job, as JSON.
type snapshot[K comparable, A, R any] struct {
	Format    int // 1
	Window    string
	Watermark int64
	Shards    map[string]shardState // by "<stream>/<shard ID>"
	Panes     []paneState[K, A]     `json:",omitempty"`
	Due       []dueState[K]         `json:",omitempty"` // tumbling and hopping windows to fire, in order
	Sessions  []sessionState[K, A]  `json:",omitempty"` // in the order they fire
	Pending   []Result[K, R]        `json:",omitempty"` // fired, not yet emitted
}

// shardState is how far a job has read one shard.
type shardState struct {
	// Position is the last record whose events are in the snapshot.
	Position shardlog.SequenceNumber
	// MaxEventTime is the latest event time seen on the shard: its
	// watermark, less the out-of-orderness allowed.
	MaxEventTime int64
	Ended        bool `json:",omitempty"` // read to its end
}

type paneState[K comparable, A any] struct {
	Key   K
	Start int64
	Acc   A
}

type dueState[K comparable] struct {
	Key   K
	Start int64
}

type sessionState[K comparable, A any] struct {
	Key        K
	Start, End int64
	Acc        A
}

// encode writes the window state, shards and pending results.
func (s *windows[E, K, A, R]) encode(shards map[string]shardState, pending []Result[K, R]) ([]byte, error) {
	snap := snapshot[K, A, R]{
		Format: 1, Window: s.w.String(), Watermark: s.watermark,
		Shards: shards, Pending: pending,
	}
	ordered := slices.Clone(s.due)
	slices.SortFunc(ordered, func(a, b due[K, A]) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	for _, d := range ordered {
		switch {
		case d.sess != nil:
			if !d.sess.closed && d.sess.end == d.end {
				snap.Sessions = append(snap.Sessions, sessionState[K, A]{d.key, d.sess.start, d.sess.end, d.sess.acc})
			}
		default:
			snap.Due = append(snap.Due, dueState[K]{d.key, d.start})
		}
	}
	snap.Panes = make([]paneState[K, A], 0, len(s.panes))
	for pk, acc := range s.panes {
		snap.Panes = append(snap.Panes, paneState[K, A]{pk.key, pk.start, *acc})
	}
	slices.SortFunc(snap.Panes, func(a, b paneState[K, A]) int { return cmp.Compare(a.Start, b.Start) })
	return json.Marshal(snap)
}

// decode restores what encode wrote, returning the shards and pending
// results.
func (s *windows[E, K, A, R]) decode(data []byte) (map[string]shardState, []Result[K, R], error) {
	var snap snapshot[K, A, R]
	if err := json.Unmarshal(data, &snap); err != nil {
		return nil, nil, fmt.Errorf("analytics: reading the snapshot: %w", err)
	}
	if snap.Format != 1 {
		return nil, nil, fmt.Errorf("analytics: snapshot format %d is not known", snap.Format)
	}
	if snap.Window != s.w.String() {
		return nil, nil, fmt.Errorf("%w: the snapshot holds %s windows, the job has %s", ErrInvalidConfig, snap.Window, s.w)
	}
	s.watermark = snap.Watermark
	for _, p := range snap.Panes {
		acc := p.Acc
		s.panes[paneKey[K]{p.Key, p.Start}] = &acc
	}
	for _, d := range snap.Due {
		if s.w.kind == hopping {
			s.scheduled[paneKey[K]{d.Key, d.Start}] = struct{}{}
		}
		s.push(due[K, A]{at: satAdd(satAdd(d.Start, s.w.size), s.lateness), key: d.Key, start: d.Start})
	}
	for _, ss := range snap.Sessions {
		sw := &sessionWindow[A]{start: ss.Start, end: ss.End, acc: ss.Acc}
		s.sessions[ss.Key] = append(s.sessions[ss.Key], sw)
		s.nSessions++
		s.push(due[K, A]{at: satAdd(sw.end, s.lateness), key: ss.Key, sess: sw, end: sw.end})
	}
	heap.Init(&s.due)
	if snap.Shards == nil {
		snap.Shards = map[string]shardState{}
	}
	return snap.Shards, snap.Pending, nil
}
