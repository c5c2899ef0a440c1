// Package model is a deliberately simple, slow reference implementation of
// the Kinesis semantics shardlog emulates: streams, shards with hash ranges
// and lineage, records, iterator positions, retention and listing. It
// shares no code with the engine; the model-based tests run both on the
// same random operations and compare everything observable.
//
// Errors are reported as AWS exception names only. Records are never
// removed: expiry is computed from arrival times, which makes the model's
// view of retention obviously right.
package model

import (
	"crypto/md5"
	"fmt"
	"math/big"
	"sort"
	"time"
)

var (
	two128  = new(big.Int).Lsh(big.NewInt(1), 128)
	maxHash = new(big.Int).Sub(two128, big.NewInt(1))
)

// Model is an account.
type Model struct {
	Now        time.Time
	ShardLimit int
	Streams    map[string]*Stream
}

// Stream is a stream of the model.
type Stream struct {
	Name      string
	Created   time.Time
	Retention time.Duration
	Shards    []*Shard // by index
	Updates   []time.Time
	Consumers map[string]bool
}

// Shard is a shard of the model.
type Shard struct {
	Index            int
	Start, End       *big.Int
	Parent, Adjacent string
	Open             bool
	Created, Closed  time.Time
	Records          []Record
	Floor            int  // records below it are gone for good (a retention increase)
	Gone             bool // expired before a retention increase: stays expired
	Children         []string
}

// Record is a stored record; Seq is the engine's number, kept for lookups.
type Record struct {
	Key     string
	Data    string
	Arrival time.Time
	Seq     string
}

// New returns an empty model at now.
func New(now time.Time, shardLimit int) *Model {
	return &Model{Now: now, ShardLimit: shardLimit, Streams: map[string]*Stream{}}
}

// ID formats a shard index as Kinesis does.
func ID(i int) string { return fmt.Sprintf("shardId-%012d", i) }

func (m *Model) openShards() int {
	n := 0
	for _, s := range m.Streams {
		n += len(s.Open())
	}
	return n
}

// Open returns the stream's open shards in hash order.
func (s *Stream) Open() []*Shard {
	var out []*Shard
	for _, sh := range s.Shards {
		if sh.Open {
			out = append(out, sh)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Cmp(out[j].Start) < 0 })
	return out
}

func (s *Stream) add(now time.Time, start, end *big.Int, parent, adjacent string) *Shard {
	sh := &Shard{Index: len(s.Shards), Start: start, End: end, Parent: parent, Adjacent: adjacent, Open: true, Created: now}
	s.Shards = append(s.Shards, sh)
	return sh
}

// CreateStream creates a stream of n shards split as AWS does.
func (m *Model) CreateStream(name string, n int) string {
	if n < 1 { // input is validated before anything is looked up
		return "ValidationException"
	}
	if _, ok := m.Streams[name]; ok {
		return "ResourceInUseException"
	}
	if m.openShards()+n > m.ShardLimit {
		return "LimitExceededException"
	}
	s := &Stream{Name: name, Created: m.Now, Retention: 24 * time.Hour}
	step := new(big.Int).Quo(two128, big.NewInt(int64(n)))
	for i := 0; i < n; i++ {
		start := new(big.Int).Mul(step, big.NewInt(int64(i)))
		end := new(big.Int).Sub(new(big.Int).Mul(step, big.NewInt(int64(i+1))), big.NewInt(1))
		if i == n-1 {
			end = maxHash
		}
		s.add(m.Now, start, end, "", "")
	}
	m.Streams[name] = s
	return ""
}

// DeleteStream deletes a stream; one with consumers only if force.
func (m *Model) DeleteStream(name string, force bool) string {
	s, ok := m.Streams[name]
	if !ok {
		return "ResourceNotFoundException"
	}
	if len(s.Consumers) > 0 && !force {
		return "ResourceInUseException"
	}
	delete(m.Streams, name)
	return ""
}

// Hash is the hash key of a record.
func Hash(key, explicit string) (*big.Int, bool) {
	if explicit != "" {
		h, ok := new(big.Int).SetString(explicit, 10)
		if !ok || h.Sign() < 0 || h.Cmp(maxHash) > 0 || h.String() != explicit {
			return nil, false
		}
		return h, true
	}
	sum := md5.Sum([]byte(key))
	return new(big.Int).SetBytes(sum[:]), true
}

// Route returns the open shard a hash key goes to.
func (s *Stream) Route(h *big.Int) *Shard {
	for _, sh := range s.Open() {
		if sh.Start.Cmp(h) <= 0 && h.Cmp(sh.End) <= 0 {
			return sh
		}
	}
	panic("open shards do not cover the hash space")
}

// Put stores a record in the shard its hash picks and returns that shard.
// seq is the number the engine gave it.
func (m *Model) Put(name, key, data, explicit, seq string) (*Shard, string) {
	s, ok := m.Streams[name]
	if !ok {
		return nil, "ResourceNotFoundException"
	}
	if key == "" || len(key) > 256 {
		return nil, "ValidationException"
	}
	h, ok := Hash(key, explicit)
	if !ok {
		return nil, "InvalidArgumentException"
	}
	sh := s.Route(h)
	arrival := m.Now.Truncate(time.Millisecond)
	if n := len(sh.Records); n > 0 && sh.Records[n-1].Arrival.After(arrival) {
		arrival = sh.Records[n-1].Arrival
	}
	sh.Records = append(sh.Records, Record{Key: key, Data: data, Arrival: arrival, Seq: seq})
	return sh, ""
}

// Horizon is the oldest arrival time still live.
func (m *Model) Horizon(s *Stream) time.Time { return m.Now.Add(-s.Retention) }

// FirstLive is the index of the shard's oldest live record (or len).
func (m *Model) FirstLive(s *Stream, sh *Shard) int {
	h := m.Horizon(s)
	for i := sh.Floor; i < len(sh.Records); i++ {
		if !sh.Records[i].Arrival.Before(h) {
			return i
		}
	}
	return len(sh.Records)
}

// Expired reports whether a closed shard has no live record left.
func (m *Model) Expired(s *Stream, sh *Shard) bool {
	if sh.Open {
		return false
	}
	if sh.Gone {
		return true
	}
	newest := sh.Closed
	if n := len(sh.Records); n > 0 {
		newest = sh.Records[n-1].Arrival
	}
	return newest.Before(m.Horizon(s))
}

// Shard returns a shard that is listed (not expired), or nil.
func (m *Model) Shard(s *Stream, id string) *Shard {
	for _, sh := range s.Shards {
		if ID(sh.Index) == id && !m.Expired(s, sh) {
			return sh
		}
	}
	return nil
}

// Split splits an open shard at key.
func (m *Model) Split(name, id, key string) string {
	s, ok := m.Streams[name]
	if !ok {
		return "ResourceNotFoundException"
	}
	sh := m.Shard(s, id)
	if sh == nil || !sh.Open {
		return "ResourceNotFoundException"
	}
	k, ok := new(big.Int).SetString(key, 10)
	if !ok || k.Sign() < 0 {
		return "ValidationException"
	}
	if k.Cmp(maxHash) > 0 {
		return "InvalidArgumentException"
	}
	if k.Cmp(new(big.Int).Add(sh.Start, big.NewInt(1))) <= 0 || k.Cmp(sh.End) >= 0 {
		return "InvalidArgumentException"
	}
	if m.openShards()+1 > m.ShardLimit {
		return "LimitExceededException"
	}
	m.split(s, sh, k)
	return ""
}

func (m *Model) split(s *Stream, sh *Shard, k *big.Int) (*Shard, *Shard) {
	lo := s.add(m.Now, sh.Start, new(big.Int).Sub(k, big.NewInt(1)), ID(sh.Index), "")
	hi := s.add(m.Now, k, sh.End, ID(sh.Index), "")
	m.close(sh, lo, hi)
	return lo, hi
}

func (m *Model) close(sh *Shard, children ...*Shard) {
	sh.Open, sh.Closed = false, m.Now
	for _, c := range children {
		sh.Children = append(sh.Children, ID(c.Index))
	}
}

// Merge merges two adjacent open shards.
func (m *Model) Merge(name, a, b string) string {
	s, ok := m.Streams[name]
	if !ok {
		return "ResourceNotFoundException"
	}
	x, y := m.Shard(s, a), m.Shard(s, b)
	if x == nil || y == nil || !x.Open || !y.Open {
		return "ResourceNotFoundException"
	}
	one := big.NewInt(1)
	if new(big.Int).Add(x.End, one).Cmp(y.Start) != 0 && new(big.Int).Add(y.End, one).Cmp(x.Start) != 0 {
		return "InvalidArgumentException"
	}
	m.merge(s, x, y)
	return ""
}

func (m *Model) merge(s *Stream, x, y *Shard) *Shard {
	start, end := x.Start, y.End
	if y.Start.Cmp(x.Start) < 0 {
		start, end = y.Start, x.End
	}
	c := s.add(m.Now, start, end, ID(x.Index), ID(y.Index))
	m.close(x, c)
	m.close(y, c)
	return c
}

// UpdateShardCount reshapes the open shards into target even ranges: it
// splits each open shard (in hash order) at every target boundary inside
// it, then merges, left to right, the shards of each target range.
func (m *Model) UpdateShardCount(name string, target int) string {
	s, ok := m.Streams[name]
	if !ok {
		return "ResourceNotFoundException"
	}
	open := s.Open()
	n := len(open)
	recent := 0
	for _, t := range s.Updates {
		if m.Now.Sub(t) < 24*time.Hour {
			recent++
		}
	}
	switch {
	case target < 1:
		return "ValidationException"
	case target > 2*n || 2*target < n || target > 10000 || recent >= 10:
		return "LimitExceededException"
	case m.openShards()-n+target > m.ShardLimit && target > n:
		return "LimitExceededException"
	}
	s.Updates = append(s.Updates, m.Now)
	step := new(big.Int).Quo(two128, big.NewInt(int64(target)))
	var bounds []*big.Int // starts of target ranges 1..target-1
	for i := 1; i < target; i++ {
		bounds = append(bounds, new(big.Int).Mul(step, big.NewInt(int64(i))))
	}
	var cut []*Shard
	for _, sh := range open {
		for _, b := range bounds {
			if sh.Start.Cmp(b) < 0 && b.Cmp(sh.End) <= 0 {
				lo, hi := m.split(s, sh, b)
				cut = append(cut, lo)
				sh = hi
			}
		}
		cut = append(cut, sh)
	}
	i := 0
	for t := 0; t < target; t++ {
		end := maxHash
		if t < target-1 {
			end = new(big.Int).Sub(bounds[t], big.NewInt(1))
		}
		acc := cut[i]
		for i++; i < len(cut) && cut[i].Start.Cmp(end) <= 0; i++ {
			acc = m.merge(s, acc, cut[i])
		}
	}
	return ""
}

// SetRetention changes the retention period with AWS's rules.
func (m *Model) SetRetention(name string, hours int, increase bool) string {
	s, ok := m.Streams[name]
	if !ok {
		return "ResourceNotFoundException"
	}
	cur := int(s.Retention / time.Hour)
	if hours < 24 || hours > 8760 || increase && hours < cur || !increase && hours > cur {
		return "InvalidArgumentException"
	}
	if increase && hours > cur {
		// Records that expired under the old period stay gone.
		for _, sh := range s.Shards {
			sh.Floor = m.FirstLive(s, sh)
			sh.Gone = m.Expired(s, sh)
		}
	}
	s.Retention = time.Duration(hours) * time.Hour
	return ""
}

// Listed returns the shards ListShards shows without a filter, in index
// order.
func (m *Model) Listed(s *Stream) []*Shard {
	var out []*Shard
	for _, sh := range s.Shards {
		if !m.Expired(s, sh) {
			out = append(out, sh)
		}
	}
	return out
}

// Live returns the shard's live records.
func (m *Model) Live(s *Stream, sh *Shard) []Record {
	return sh.Records[m.FirstLive(s, sh):]
}

// Position is where an iterator of the given type starts: an index into the
// shard's records. seqIndex is the record a sequence number names.
func (m *Model) Position(s *Stream, sh *Shard, typ string, seqIndex int, ts time.Time) int {
	first := m.FirstLive(s, sh)
	switch typ {
	case "TRIM_HORIZON":
		return first
	case "LATEST":
		return len(sh.Records)
	case "AT_SEQUENCE_NUMBER":
		return max(seqIndex, first)
	case "AFTER_SEQUENCE_NUMBER":
		return max(seqIndex+1, first)
	}
	for i := first; i < len(sh.Records); i++ { // AT_TIMESTAMP
		if !sh.Records[i].Arrival.Before(ts.Truncate(time.Millisecond)) {
			return i
		}
	}
	return len(sh.Records)
}

// Read returns up to limit records from pos and the next position; end is
// true at the end of a closed shard (no records, nothing after).
func (m *Model) Read(s *Stream, sh *Shard, pos, limit int) (recs []Record, next int, end bool) {
	pos = max(pos, m.FirstLive(s, sh))
	next = min(pos+limit, len(sh.Records))
	recs = sh.Records[pos:next]
	return recs, next, !sh.Open && len(recs) == 0 && next == len(sh.Records)
}

// Register registers a consumer.
func (m *Model) Register(name, consumer string) string {
	s, ok := m.Streams[name]
	if !ok {
		return "ResourceNotFoundException"
	}
	switch {
	case s.Consumers[consumer]:
		return "ResourceInUseException"
	case len(s.Consumers) >= 20:
		return "LimitExceededException"
	}
	if s.Consumers == nil {
		s.Consumers = map[string]bool{}
	}
	s.Consumers[consumer] = true
	return ""
}

// Deregister deregisters a consumer.
func (m *Model) Deregister(name, consumer string) string {
	s, ok := m.Streams[name]
	if !ok || !s.Consumers[consumer] {
		return "ResourceNotFoundException"
	}
	delete(s.Consumers, consumer)
	return ""
}
