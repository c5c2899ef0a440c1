// Package segment is the in-memory storage of one shard: an append-only log of
// records addressed by position (0, 1, 2, ...).
//
// Keys and payloads are copied into large byte slabs; each record has one
// fixed-size index entry in an array of entries. A million records therefore
// cost the garbage collector a few hundred objects, not a million. Bytes below
// the published length never change, so readers share them without copying and
// without the writer's lock. Trimming the head drops whole slabs and index
// chunks once no live record needs them.
//
// Concurrency: Append and TrimBefore must be serialized by the caller (the
// shard's lock). Everything else is safe to call concurrently with them.
package segment

import (
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"
)

const (
	chunkShift = 10
	chunkLen   = 1 << chunkShift // entries per index chunk (24 KiB)
	minSlab    = 4 << 10         // first slab; later ones double up to maxSlab
	maxSlab    = 1 << 20
)

// entry locates one record. 24 bytes, no pointers.
type entry struct {
	slab   uint32 // absolute slab number
	off    uint32 // offset of the key within the slab; the data follows it
	data   uint32 // data length
	key    uint16 // key length in bytes
	_      uint16
	millis int64 // arrival time, Unix milliseconds
}

type chunk [chunkLen]entry

// deque is a slice with a movable front whose released slots are cleared, so
// trimmed chunks become garbage at once.
type deque[T any] struct {
	items []T
	start int
	base  uint64 // absolute number of items[start]
}

func (d *deque[T]) get(abs uint64) T { return d.items[d.start+int(abs-d.base)] }
func (d *deque[T]) push(v T)         { d.items = append(d.items, v) }
func (d *deque[T]) count() int       { return len(d.items) - d.start }

// dropBefore releases every item numbered below abs.
func (d *deque[T]) dropBefore(abs uint64) {
	var zero T
	for d.base < abs && d.start < len(d.items) {
		d.items[d.start] = zero
		d.start++
		d.base++
	}
	if d.start > 32 && d.start*2 > len(d.items) {
		n := copy(d.items, d.items[d.start:])
		clear(d.items[n:])
		d.items = d.items[:n]
		d.start = 0
	}
}

// Segment stores the records of one shard. The zero value is an empty
// segment ready to use.
type Segment struct {
	length atomic.Uint64 // published: positions below it are complete
	head   atomic.Uint64 // first live position; lower ones are trimmed
	bytes  atomic.Int64  // key and data bytes of the live records

	// Writer state, guarded by the caller's serialization of Append/TrimBefore.
	wlen     uint64 // records written, published or not
	wbytes   int64  // key and data bytes written but not yet published
	cur      []byte // slab being filled
	used     int    // bytes of cur in use
	wchunk   *chunk // index chunk being filled
	slabNext uint32 // absolute number the next new slab gets
	nextSize int    // size of the next new slab

	mu     sync.RWMutex // guards the two directories below
	chunks deque[*chunk]
	slabs  deque[[]byte]
}

// Len returns the number of records ever appended: positions [Head, Len) are
// readable.
func (s *Segment) Len() uint64 { return s.length.Load() }

// Head returns the first position not trimmed.
func (s *Segment) Head() uint64 { return s.head.Load() }

// Bytes returns the key and data bytes held by live records.
func (s *Segment) Bytes() int64 { return s.bytes.Load() }

// Append stores a record, publishes it to readers, and returns its
// position. The key and data are copied. len(key) must be below 65536 and
// len(data) below 2^32 - 65536.
func (s *Segment) Append(key string, data []byte, millis int64) uint64 {
	pos := s.Add(key, data, millis)
	s.Publish()
	return pos
}

// Publish makes the records added since the last Publish visible to
// readers, with one atomic store for all of them.
func (s *Segment) Publish() {
	if s.wbytes != 0 {
		s.bytes.Add(s.wbytes)
		s.wbytes = 0
	}
	if s.wlen != s.length.Load() {
		s.length.Store(s.wlen)
	}
}

// Add stores a record like Append but leaves it unpublished: readers do not
// see it (and Len does not count it) until Publish.
func (s *Segment) Add(key string, data []byte, millis int64) uint64 {
	pos := s.wlen
	size := len(key) + len(data)
	if s.cur == nil || len(s.cur)-s.used < size {
		s.newSlab(size)
	}
	off := s.used
	copy(s.cur[off:], key)
	copy(s.cur[off+len(key):], data)
	s.used += size

	if pos&(chunkLen-1) == 0 {
		s.wchunk = new(chunk)
		s.mu.Lock()
		if s.chunks.count() == 0 {
			s.chunks.base = pos >> chunkShift
		}
		s.chunks.push(s.wchunk)
		s.mu.Unlock()
	}
	s.wchunk[pos&(chunkLen-1)] = entry{
		slab:   s.slabNext - 1,
		off:    uint32(off),
		data:   uint32(len(data)),
		key:    uint16(len(key)),
		millis: millis,
	}
	s.wbytes += int64(size)
	s.wlen = pos + 1
	return pos
}

func (s *Segment) newSlab(need int) {
	if s.nextSize == 0 {
		s.nextSize = minSlab
	}
	size := max(s.nextSize, need)
	s.nextSize = min(s.nextSize*2, maxSlab)
	s.cur = make([]byte, size)
	if s.head.Load() == 0 {
		// Only a log that has never trimmed is likely to get memory fresh
		// from the OS; one that trims reuses what it freed, and the advice
		// would only cost a system call.
		prefault(s.cur)
	}
	s.used = 0
	s.mu.Lock()
	if s.slabs.count() == 0 {
		s.slabs.base = uint64(s.slabNext)
	}
	s.slabs.push(s.cur)
	s.mu.Unlock()
	s.slabNext++
}

// TrimBefore makes every position below pos unreadable and releases the
// slabs and index chunks that only such records used. Positions at or above
// Len are clamped to Len. It returns the key and data bytes it freed.
func (s *Segment) TrimBefore(pos uint64) int64 {
	s.Publish()
	n := s.length.Load()
	pos = min(pos, n)
	head := s.head.Load()
	if pos <= head {
		return 0
	}
	// Only the writer changes the directories, and the caller makes us the
	// writer, so reading them here needs no lock.
	var freed int64
	for p := head; p < pos; p++ {
		e := &s.chunks.get(p >> chunkShift)[p&(chunkLen-1)]
		freed += int64(e.key) + int64(e.data)
	}
	s.mu.Lock()
	s.head.Store(pos)
	if pos == n {
		// Nothing live: keep only the slab being filled and the chunk the
		// next append writes into.
		s.slabs.dropBefore(uint64(s.slabNext) - 1)
	} else {
		first := s.chunks.get(pos >> chunkShift)[pos&(chunkLen-1)].slab
		s.slabs.dropBefore(uint64(first))
	}
	s.chunks.dropBefore(min(pos, n-1) >> chunkShift)
	s.mu.Unlock()
	s.bytes.Add(-freed)
	return freed
}

// RecordSize returns the key plus data bytes of the live record at pos. Like
// TrimBefore, it must be serialized with Append.
func (s *Segment) RecordSize(pos uint64) int64 {
	e := &s.chunks.get(pos >> chunkShift)[pos&(chunkLen-1)]
	return int64(e.key) + int64(e.data)
}

// Millis returns the arrival time of the record at pos, or of the oldest
// live record if pos has been trimmed. It reports false if no record at or
// after pos is live.
func (s *Segment) Millis(pos uint64) (int64, bool) {
	n := s.length.Load()
	s.mu.RLock()
	defer s.mu.RUnlock()
	pos = max(pos, s.head.Load())
	if pos >= n {
		return 0, false
	}
	return s.chunks.get(pos >> chunkShift)[pos&(chunkLen-1)].millis, true
}

// SearchMillis returns the first position in [Head, Len) whose arrival time
// is at least millis, or Len if there is none. Arrival times must be
// non-decreasing in position, which the shard guarantees.
func (s *Segment) SearchMillis(millis int64) uint64 {
	n := s.length.Load()
	s.mu.RLock()
	defer s.mu.RUnlock()
	head := s.head.Load()
	i := sort.Search(int(n-head), func(i int) bool {
		p := head + uint64(i)
		return s.chunks.get(p >> chunkShift)[p&(chunkLen-1)].millis >= millis
	})
	return head + uint64(i)
}

// Record is one stored record. Key and Data share the segment's memory and
// must not be modified.
type Record struct {
	Pos    uint64
	Key    string
	Data   []byte
	Millis int64
}

// Cursor reads records in position order. It caches the chunk and slab it is
// in and the length it last saw, so the common step is a few loads and no
// lock. A Cursor is not safe for concurrent use.
type Cursor struct {
	seg     *Segment
	pos     uint64
	limit   uint64 // a length seen earlier; positions below it are complete
	chunk   *chunk
	chunkNo uint64
	slab    []byte
	slabNo  uint32
}

// Cursor returns a cursor positioned at pos.
func (s *Segment) Cursor(pos uint64) Cursor {
	return Cursor{seg: s, pos: pos, chunkNo: ^uint64(0), slabNo: ^uint32(0)}
}

// Pos returns the position the next call to Next reads.
func (c *Cursor) Pos() uint64 { return c.pos }

// Seek moves the cursor to pos.
func (c *Cursor) Seek(pos uint64) { c.pos = pos }

// Next reads the record at the cursor's position and advances. A position
// below Head is first moved up to Head (trimmed records are skipped). It
// returns false when the cursor is at Len.
func (c *Cursor) Next(r *Record) bool {
	if c.pos >= c.limit || c.pos>>chunkShift != c.chunkNo || c.pos < c.seg.head.Load() {
		if !c.settle() {
			return false
		}
	}
	e := &c.chunk[c.pos&(chunkLen-1)]
	if e.slab != c.slabNo {
		if !c.fetchSlab(e) {
			return c.Next(r) // trimmed meanwhile: start again from the head
		}
	}
	kend := e.off + uint32(e.key)
	end := kend + e.data
	r.Pos = c.pos
	r.Key = ""
	if e.key > 0 {
		r.Key = unsafe.String(&c.slab[e.off], int(e.key))
	}
	r.Data = c.slab[kend:end:end]
	r.Millis = e.millis
	c.pos++
	return true
}

// settle refreshes the cursor's view: the length, the head, and the chunk
// holding c.pos. It reports false if there is no record at c.pos.
func (c *Cursor) settle() bool {
	s := c.seg
	c.limit = s.length.Load()
	if h := s.head.Load(); c.pos < h {
		c.pos = h
	}
	if c.pos >= c.limit {
		return false
	}
	if no := c.pos >> chunkShift; no != c.chunkNo {
		s.mu.RLock()
		if h := s.head.Load(); c.pos < h {
			c.pos = h
			no = c.pos >> chunkShift
		}
		c.chunk, c.chunkNo = s.chunks.get(no), no
		s.mu.RUnlock()
	}
	return true
}

// fetchSlab loads the slab e points into. It reports false if the record at
// c.pos was trimmed meanwhile (and its slab maybe released).
func (c *Cursor) fetchSlab(e *entry) bool {
	s := c.seg
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c.pos < s.head.Load() {
		return false
	}
	c.slab, c.slabNo = s.slabs.get(uint64(e.slab)), e.slab
	return true
}
