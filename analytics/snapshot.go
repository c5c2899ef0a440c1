package analytics

import (
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/hashkey"
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
	Pending   []pendingState[K, R]  `json:",omitempty"` // fired, not yet emitted
	Hashes    []hashState[K]        `json:",omitempty"` // keys' hash keys, in a job keyed by partition key
}

type hashState[K comparable] struct {
	Key  K
	Hash string // decimal
}

type pendingState[K comparable, R any] struct {
	ID         string
	Key        K
	Start, End int64
	Value      R
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
	Seq   uint64 // orders windows that close at once
}

type sessionState[K comparable, A any] struct {
	Key        K
	Start, End int64
	Acc        A
	Seq        uint64
}

// encode writes the window state, shards and pending results as the JSON
// of a snapshot — by hand, since a snapshot holds every open window and
// encoding/json's reflection would cost more than the events that made
// them.
func (s *windows[E, K, A, R]) encode(shards map[string]shardState, pending []Result[K, R]) ([]byte, error) {
	b := make([]byte, 0, 64*(len(s.panes)+len(s.due)+len(pending))+1024)
	b = append(b, `{"Format":1,"Window":`...)
	b = strconv.AppendQuote(b, s.w.String())
	b = append(b, `,"Watermark":`...)
	b = strconv.AppendInt(b, s.watermark, 10)
	b = append(b, `,"Shards":`...)
	sh, err := json.Marshal(shards)
	if err != nil {
		return nil, err
	}
	b = append(b, sh...)
	b = append(b, `,"Panes":[`...)
	first := true
	for pk, acc := range s.panes {
		b = comma(b, &first)
		b = append(b, `{"Key":`...)
		if b, err = appendKeyJSON(b, pk.key); err != nil {
			return nil, err
		}
		b = append(b, `,"Start":`...)
		b = strconv.AppendInt(b, pk.start, 10)
		b = append(b, `,"Acc":`...)
		if b, err = appendValueJSON(b, *acc); err != nil {
			return nil, err
		}
		b = append(b, '}')
	}
	b = append(b, `],"Due":[`...)
	first = true
	for _, d := range s.due {
		if d.sess != nil {
			continue
		}
		b = comma(b, &first)
		b = append(b, `{"Key":`...)
		if b, err = appendKeyJSON(b, d.key); err != nil {
			return nil, err
		}
		b = append(b, `,"Start":`...)
		b = strconv.AppendInt(b, d.start, 10)
		b = append(b, `,"Seq":`...)
		b = strconv.AppendUint(b, d.seq, 10)
		b = append(b, '}')
	}
	b = append(b, `],"Sessions":[`...)
	first = true
	for _, d := range s.due {
		if d.sess == nil || d.sess.closed || d.sess.end != d.end {
			continue
		}
		b = comma(b, &first)
		b = append(b, `{"Key":`...)
		if b, err = appendKeyJSON(b, d.key); err != nil {
			return nil, err
		}
		b = append(b, `,"Start":`...)
		b = strconv.AppendInt(b, d.sess.start, 10)
		b = append(b, `,"End":`...)
		b = strconv.AppendInt(b, d.sess.end, 10)
		b = append(b, `,"Seq":`...)
		b = strconv.AppendUint(b, d.seq, 10)
		b = append(b, `,"Acc":`...)
		if b, err = appendValueJSON(b, d.sess.acc); err != nil {
			return nil, err
		}
		b = append(b, '}')
	}
	if s.hashes != nil {
		s.pruneHashes()
		b = append(b, `],"Hashes":[`...)
		first = true
		for k, h := range s.hashes {
			b = comma(b, &first)
			b = append(b, `{"Key":`...)
			if b, err = appendKeyJSON(b, k); err != nil {
				return nil, err
			}
			b = append(b, `,"Hash":"`...)
			b = h.AppendDecimal(b)
			b = append(b, `"}`...)
		}
	}
	b = append(b, `],"Pending":[`...)
	first = true
	for _, r := range pending {
		b = comma(b, &first)
		b = append(b, `{"ID":`...)
		b = strconv.AppendQuote(b, r.ID)
		b = append(b, `,"Key":`...)
		if b, err = appendKeyJSON(b, r.Key); err != nil {
			return nil, err
		}
		b = append(b, `,"Start":`...)
		b = strconv.AppendInt(b, r.Start.UnixNano(), 10)
		b = append(b, `,"End":`...)
		b = strconv.AppendInt(b, r.End.UnixNano(), 10)
		b = append(b, `,"Value":`...)
		if b, err = appendValueJSON(b, r.Value); err != nil {
			return nil, err
		}
		b = append(b, '}')
	}
	return append(b, "]}"...), nil
}

// pruneHashes forgets the hash keys of keys without open windows.
func (s *windows[E, K, A, R]) pruneHashes() {
	live := make(map[K]bool, len(s.hashes))
	for pk := range s.panes {
		live[pk.key] = true
	}
	for k := range s.sessions {
		live[k] = true
	}
	for k := range s.hashes {
		if !live[k] {
			delete(s.hashes, k)
		}
	}
}

func comma(b []byte, first *bool) []byte {
	if *first {
		*first = false
		return b
	}
	return append(b, ',')
}

// appendValueJSON appends an accumulator or a result as encoding/json
// writes it, quickly for numbers.
func appendValueJSON(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		if !math.IsInf(x, 0) && !math.IsNaN(x) {
			return strconv.AppendFloat(b, x, 'g', -1, 64), nil
		}
	}
	return appendJSON(b, v)
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
		wk := paneKey[K]{d.Key, d.Start}
		if _, ok := s.scheduled[wk]; ok {
			return nil, nil, errors.New("analytics: reading the snapshot: a window is due twice")
		}
		if _, ok := s.panes[wk]; !ok && s.w.kind == tumbling {
			return nil, nil, errors.New("analytics: reading the snapshot: a window is due without its accumulator")
		}
		s.scheduled[wk] = struct{}{}
		s.due = append(s.due, due[K, A]{at: satAdd(satAdd(d.Start, s.w.size), s.lateness), seq: d.Seq, key: d.Key, start: d.Start})
		s.seq = max(s.seq, d.Seq)
	}
	for _, ss := range snap.Sessions {
		sw := &sessionWindow[A]{start: ss.Start, end: ss.End, acc: ss.Acc}
		s.sessions[ss.Key] = append(s.sessions[ss.Key], sw)
		s.nSessions++
		s.due = append(s.due, due[K, A]{at: satAdd(sw.end, s.lateness), seq: ss.Seq, key: ss.Key, sess: sw, end: sw.end})
		s.seq = max(s.seq, ss.Seq)
	}
	if s.w.kind == tumbling {
		clear(s.scheduled) // only hopping windows keep it
	}
	heap.Init(&s.due)
	if s.hashes != nil {
		for _, h := range snap.Hashes {
			k, err := hashkey.Parse(h.Hash)
			if err != nil {
				return nil, nil, fmt.Errorf("analytics: reading the snapshot: %w", err)
			}
			s.hashes[h.Key] = k
		}
	}
	if snap.Shards == nil {
		snap.Shards = map[string]shardState{}
	}
	pending := make([]Result[K, R], len(snap.Pending))
	for i, p := range snap.Pending {
		pending[i] = Result[K, R]{ID: p.ID, Key: p.Key, Start: unixNano(p.Start), End: unixNano(p.End), Value: p.Value}
	}
	return snap.Shards, pending, nil
}
