// Package segment is the storage of one shard: an append-only log of records
// addressed by position (0, 1, 2, ...), in memory and optionally on disk.
//
// Keys and payloads are copied into large byte slabs; each record has one
// fixed-size index entry in an array of entries. A million records therefore
// cost the garbage collector a few hundred objects, not a million. Bytes below
// the published length never change, so readers share them without copying and
// without the writer's lock. Trimming the head drops whole slabs and index
// chunks once no live record needs them.
//
// A durable segment (see Options.Storage) writes each record as a checksummed
// frame (package segfile) into its slab and, if the Storage maps the slab's
// file, into that mapping too (otherwise the Storage writes the file from
// the slab when it syncs): a slab is a file. Slabs that are finished may
// leave memory and are read back from their files when a reader needs them;
// the index entries stay in memory.
//
// Concurrency: Add, Publish, PublishTo, TrimBefore, Rollback and RecordSize
// must be serialized by the caller (the shard's lock). Everything else is
// safe to call concurrently with them.
package segment

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/shardlog/shardlog/internal/segfile"
)

const (
	chunkShift = 10
	chunkLen   = 1 << chunkShift // entries per index chunk (24 KiB)
	minSlab    = 2 << 10         // first slab; later ones double up to maxSlab (an idle shard holds a few records)
	maxSlab    = 1 << 20
)

// Storage keeps a durable segment's slabs in files. Its methods are called
// with the caller's serialization of Add held, except LoadSlab, which
// readers call.
type Storage interface {
	// NewSlab starts slab n, of size bytes, whose first record will be at
	// position first. It returns the writable mapping of the slab's file,
	// with the file header (segfile.HeaderSize bytes) written, and may
	// return the memory for the slab's copy that readers use (size bytes,
	// zero, faulted in ahead), or nil for the segment to allocate it.
	NewSlab(n uint32, first uint64, size int) (mirror, mem []byte, err error)
	// FinishSlab says that slab n holds its final records, whose frames are
	// image[segfile.HeaderSize:]. It may be called again for the same slab
	// with fewer records (see Rollback).
	FinishSlab(n uint32, image []byte)
	// LoadSlab reads finished slab n back for a reader. whole reports whether
	// the image matched its file's checksum as a whole; if not, the segment
	// checks each record's frame before returning the record, and a record
	// whose frame fails is damaged. An error means none of the slab can be
	// read: its records are damaged.
	LoadSlab(n uint32) (image []byte, whole bool, err error)
	// DropSlab says that slab n holds no live record any more: its
	// records were trimmed.
	DropSlab(n uint32)
	// DiscardSlab says that slab n holds only records a Rollback
	// discarded, none of which was acknowledged.
	DiscardSlab(n uint32)
}

// Options configure a segment. The zero value is an in-memory segment.
type Options struct {
	Storage Storage // nil: in memory only
	MaxSlab int     // largest slab (a record larger than it gets a slab of its own); default 1 MiB
	Cached  int     // finished slabs a durable segment keeps in memory; default 2
	Seed    uint32  // the checksum seed of its frames (segfile.FrameSeed), if durable
}

// entry locates one record. 24 bytes, no pointers.
type entry struct {
	slab   uint32 // absolute slab number; noSlab: the record is lost (see RestoreLost)
	off    uint32 // offset of the key within the slab; the data follows it
	data   uint32 // data length
	key    uint16 // key length
	gen    uint8  // the data key's generation; 0: not encrypted
	millis int64  // arrival time, Unix milliseconds
}

// chunk holds the entries of chunkLen consecutive positions. A segment's
// first chunk starts small and doubles as it fills (an idle shard holds a
// few records), so a chunk's length is its capacity: it covers the
// positions below its length, and the writer replaces it with a longer
// copy before writing past them. Readers that hold a shorter copy read
// only positions it covers, written before the copy was made.
type chunk []entry

// firstChunk is the length a segment's first chunk starts with.
const firstChunk = 16

// noSlab is the slab number of a record that opening found damaged beyond
// reading: its frame is gone (a missing file, garbled bytes), and only its
// position is known.
const noSlab = ^uint32(0)

// deque is a slice with a movable front whose released slots are cleared, so
// trimmed chunks become garbage at once.
type deque[T any] struct {
	items []T
	start int
	base  uint64 // absolute number of items[start]
}

func (d *deque[T]) get(abs uint64) T    { return d.items[d.start+int(abs-d.base)] }
func (d *deque[T]) set(abs uint64, v T) { d.items[d.start+int(abs-d.base)] = v }
func (d *deque[T]) push(v T)            { d.items = append(d.items, v) }
func (d *deque[T]) count() int          { return len(d.items) - d.start }
func (d *deque[T]) has(abs uint64) bool { return abs >= d.base && abs-d.base < uint64(d.count()) }

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

// truncate releases every item numbered abs and above.
func (d *deque[T]) truncate(abs uint64) {
	if abs < d.base {
		abs = d.base
	}
	keep := d.start + int(abs-d.base)
	if keep < len(d.items) {
		clear(d.items[keep:])
		d.items = d.items[:keep]
	}
}

// Segment stores the records of one shard. The zero value is an empty
// in-memory segment ready to use; Init makes it durable.
type Segment struct {
	length atomic.Uint64 // published: positions below it are complete
	head   atomic.Uint64 // first live position; lower ones are trimmed
	bytes  atomic.Int64  // key and data bytes of the live published records

	// Writer state, guarded by the caller's serialization of Add.
	wlen      uint64 // records written, published or not
	wbytes    int64  // key and data bytes written but not yet published
	cur       []byte // slab being filled
	mirror    []byte // its file's mapping (durable, if the storage maps it)
	used      int    // bytes of cur in use
	wchunk    chunk  // index chunk being filled
	slabNext  uint32 // absolute number the next new slab gets
	nextSize  int    // size of the next new slab
	opt       Options
	header    int // bytes each slab starts with: the file header, when durable
	frame     int // bytes each record takes beyond key and data
	maxSlab   int
	trimmedTo uint64 // TrimBefore has run (a log that trims reuses memory)

	mu     sync.RWMutex // guards the directories below, loaded and unsure
	chunks deque[chunk]
	slabs  deque[[]byte]   // nil: a durable slab not in memory
	loaded []uint32        // finished slabs in memory, oldest first (durable)
	unsure map[uint32]bool // slabs in memory whose records are checked one by one (see Storage.LoadSlab)
	loadMu sync.Mutex      // one load at a time
}

// Init configures the segment; call it before the first Add.
func (s *Segment) Init(o Options) {
	s.opt = o
	s.maxSlab = maxSlab
	if o.MaxSlab > 0 {
		s.maxSlab = o.MaxSlab
	}
	if o.Storage != nil {
		s.header, s.frame = segfile.HeaderSize, segfile.FrameHeader
		if s.opt.Cached <= 0 {
			s.opt.Cached = 2
		}
	}
}

// Durable reports whether the segment keeps its records in files.
func (s *Segment) Durable() bool { return s.opt.Storage != nil }

// Len returns the number of records published: positions [Head, Len) are
// readable.
func (s *Segment) Len() uint64 { return s.length.Load() }

// Written returns the number of records added, published or not.
func (s *Segment) Written() uint64 { return s.wlen }

// SlabFor returns the number of the slab the next Add of a record of size
// bytes (key and data) writes to.
func (s *Segment) SlabFor(size int) uint32 {
	if s.cur == nil || len(s.cur)-s.used < s.frame+size {
		return s.slabNext
	}
	return s.slabNext - 1
}

// Head returns the first position not trimmed.
func (s *Segment) Head() uint64 { return s.head.Load() }

// Bytes returns the key and data bytes held by live records.
func (s *Segment) Bytes() int64 { return s.bytes.Load() }

// Append stores a record in an in-memory segment, publishes it to readers,
// and returns its position.
func (s *Segment) Append(key string, data []byte, millis int64) uint64 {
	pos, err := s.Add(key, data, millis, 0)
	if err != nil {
		panic("segment: Append on a durable segment: " + err.Error())
	}
	s.Publish()
	return pos
}

// Publish makes every record added so far visible to readers, with one
// atomic store for all of them.
func (s *Segment) Publish() { s.PublishTo(s.wlen) }

// PublishTo makes the records below position n visible (n at most Written).
func (s *Segment) PublishTo(n uint64) {
	old := s.length.Load()
	if n <= old {
		return
	}
	if n == s.wlen {
		s.bytes.Add(s.wbytes)
		s.wbytes = 0
	} else {
		var b int64
		for p := old; p < n; p++ {
			b += s.RecordSize(p)
		}
		s.bytes.Add(b)
		s.wbytes -= b
	}
	s.length.Store(n)
}

// Add stores a record like Append but leaves it unpublished: readers do not
// see it (and Len does not count it) until Publish. The key and data are
// copied; len(key) must be below 65536 and len(data) below 2^32 - 65536. A
// durable segment writes the record into its file's mapping too (if the
// storage maps it), and fails if it needs a new file and cannot make one.
//
// gen, if not 0, is the generation of the data key data is encrypted with:
// the segment keeps it with the record (see Record.Gen).
func (s *Segment) Add(key string, data []byte, millis int64, gen uint8) (uint64, error) {
	pos := s.wlen
	size := len(key) + len(data)
	need := s.frame + size
	if s.cur == nil || len(s.cur)-s.used < need {
		if err := s.newSlab(need); err != nil {
			return 0, err
		}
	}
	off := s.used
	if s.frame != 0 {
		millis = segfile.ClampMillis(millis) // what the file's index can hold
		n := segfile.PutFrame(s.cur[off:], s.opt.Seed, pos, millis, key, data, gen)
		if s.mirror != nil {
			copy(s.mirror[off:off+n], s.cur[off:off+n])
		}
	} else {
		copy(s.cur[off:], key)
		copy(s.cur[off+len(key):], data)
	}
	s.used += need

	if pos&(chunkLen-1) == 0 {
		s.startChunk(pos)
	} else if int(pos&(chunkLen-1)) >= len(s.wchunk) {
		s.growChunk(pos)
	}
	s.wchunk[pos&(chunkLen-1)] = entry{
		slab:   s.slabNext - 1,
		off:    uint32(off + s.frame),
		data:   uint32(len(data)),
		key:    uint16(len(key)),
		gen:    gen,
		millis: millis,
	}
	s.wbytes += int64(size)
	s.wlen = pos + 1
	return pos, nil
}

// startChunk begins the index chunk that holds position pos: full-size,
// unless it is the segment's first (see chunk).
func (s *Segment) startChunk(pos uint64) {
	n := chunkLen
	if s.chunks.count() == 0 {
		n = chunkSize(pos)
	}
	s.wchunk = make(chunk, n)
	s.mu.Lock()
	if s.chunks.count() == 0 {
		s.chunks.base = pos >> chunkShift
	}
	s.chunks.push(s.wchunk)
	s.mu.Unlock()
}

// growChunk replaces the chunk being filled with a copy long enough for
// position pos.
func (s *Segment) growChunk(pos uint64) {
	grown := make(chunk, max(chunkSize(pos), 2*len(s.wchunk)))
	copy(grown, s.wchunk)
	s.mu.Lock()
	s.chunks.set(pos>>chunkShift, grown)
	s.mu.Unlock()
	s.wchunk = grown
}

// chunkSize is the least chunk length, a power of two from firstChunk,
// that covers position pos.
func chunkSize(pos uint64) int {
	n := firstChunk
	for n <= int(pos&(chunkLen-1)) {
		n *= 2
	}
	return n
}

func (s *Segment) newSlab(need int) error {
	if s.maxSlab == 0 {
		s.maxSlab = maxSlab // a zero Segment was not Init'ed
	}
	if s.nextSize == 0 {
		s.nextSize = min(minSlab, s.maxSlab)
	}
	size := max(s.nextSize, need+s.header)
	var mirror, mem []byte
	if st := s.opt.Storage; st != nil {
		var err error
		if mirror, mem, err = st.NewSlab(s.slabNext, s.wlen, size); err != nil {
			return err
		}
		s.finishCurrent()
	}
	s.nextSize = min(s.nextSize*2, s.maxSlab)
	if mem == nil {
		mem = make([]byte, size)
	}
	s.cur, s.mirror = mem[:size], mirror
	if len(mirror) > 0 && &mirror[0] == &s.cur[0] {
		s.mirror = nil // the storage writes from the copy itself
	}
	if s.trimmedTo == 0 && !s.Durable() {
		// Only a log that has never trimmed is likely to get memory fresh
		// from the OS; one that trims reuses what it freed, and the advice
		// would only cost a system call.
		prefault(s.cur)
	}
	s.used = s.header
	if s.mirror != nil {
		copy(s.cur, mirror[:s.header])
	}
	s.mu.Lock()
	if s.slabs.count() == 0 {
		s.slabs.base = uint64(s.slabNext)
	}
	s.slabs.push(s.cur)
	s.mu.Unlock()
	s.slabNext++
	return nil
}

// finishCurrent tells the storage that the slab being filled is complete,
// and lets it stay in memory as the newest finished slab.
func (s *Segment) finishCurrent() {
	if s.cur == nil {
		return
	}
	n := s.slabNext - 1
	s.opt.Storage.FinishSlab(n, s.cur[:s.used])
	s.mu.Lock()
	s.keepLocked(n)
	s.mu.Unlock()
	s.cur, s.mirror = nil, nil
}

// keepLocked records that finished slab n is in memory, and sends the oldest
// out of memory if more than Cached are. s.mu is held for writing.
func (s *Segment) keepLocked(n uint32) {
	s.loaded = append(s.loaded, n)
	for len(s.loaded) > s.opt.Cached {
		old := s.loaded[0]
		s.loaded = s.loaded[1:]
		if s.slabs.has(uint64(old)) {
			s.slabs.set(uint64(old), nil) // readers holding its bytes keep them
		}
		delete(s.unsure, old)
	}
}

// Park finishes the slab being filled, if any, and lets every finished
// slab go from memory, as opening leaves a segment: its shard is idle.
// Readers load what they need again; the next Add starts a new slab of the
// smallest size. Serialized with Add.
func (s *Segment) Park() {
	if s.opt.Storage == nil {
		return
	}
	s.finishCurrent()
	s.nextSize = 0
	s.mu.Lock()
	for _, n := range s.loaded {
		if s.slabs.has(uint64(n)) {
			s.slabs.set(uint64(n), nil) // readers holding its bytes keep them
		}
	}
	s.loaded, s.unsure = nil, nil
	s.mu.Unlock()
}

// Loaded returns the number of finished slabs in memory.
func (s *Segment) Loaded() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.loaded)
}

// Used returns the bytes of the slab being filled that are in use (0 if
// none is). Serialized with Add.
func (s *Segment) Used() int {
	if s.cur == nil {
		return 0
	}
	return s.used
}

// Roll finishes the slab being filled, so that the next Add starts a new one
// (a new file): a durable shard does so when a sync of the file failed.
func (s *Segment) Roll() {
	if s.opt.Storage != nil {
		s.finishCurrent()
	}
}

// Rollback discards the records at positions to and above, none of which
// may be published, from a durable segment: a shard does so when the sync
// that would have made them durable failed. The next Add starts a new slab (a new file);
// slabs that held only discarded records are dropped. It returns the key
// and data bytes discarded.
func (s *Segment) Rollback(to uint64) int64 {
	if to >= s.wlen {
		return 0
	}
	var freed int64
	for p := to; p < s.wlen; p++ {
		freed += s.RecordSize(p)
	}
	first := s.entryAt(to).slab // the first slab with a discarded record
	keep := first               // slabs below keep hold records below to
	if to > 0 {
		if n := s.entryAt(to - 1).slab; n != noSlab { // a lost record was restored: new ones follow in new slabs
			keep = n + 1
		}
	}
	s.mu.Lock()
	if keep == first+1 {
		// The slab of to-1 holds discarded records too: it ends shorter.
		slab := s.slabs.get(uint64(first))
		switch {
		case slab != nil:
		case first == s.slabNext-1:
			slab = s.cur
		default: // finished, and out of memory already: the storage has it
			slab, _, _ = s.opt.Storage.LoadSlab(first)
		}
		if slab != nil { // else it keeps the records (a failed put may have succeeded)
			s.opt.Storage.FinishSlab(first, slab[:int(s.entryAt(to).off)-s.frame])
		}
		if uint32(s.slabNext-1) == first && s.slabs.get(uint64(first)) != nil {
			s.keepLocked(first) // it was being filled; now it is finished
		}
	}
	for n := max(keep, uint32(s.slabs.base)); n < s.slabNext; n++ {
		s.slabs.set(uint64(n), nil)
		s.opt.Storage.DiscardSlab(n)
	}
	kept := s.loaded[:0]
	for _, n := range s.loaded {
		if n < keep {
			kept = append(kept, n)
		}
	}
	s.loaded = kept
	if to&(chunkLen-1) == 0 {
		s.chunks.truncate(to >> chunkShift)
		s.wchunk = nil
	} else {
		s.chunks.truncate(to>>chunkShift + 1)
		s.wchunk = s.chunks.get(to >> chunkShift)
	}
	s.mu.Unlock()
	s.cur, s.mirror = nil, nil
	s.wlen = to
	s.wbytes -= freed
	return freed
}

// entryAt returns the entry of a written position. Serialized with Add.
func (s *Segment) entryAt(pos uint64) entry {
	return s.chunks.get(pos >> chunkShift)[pos&(chunkLen-1)]
}

// TrimBefore makes every position below pos unreadable and releases the
// slabs and index chunks that only such records used. Positions at or above
// Len are clamped to Len: unpublished records are never trimmed. It returns
// the key and data bytes it freed.
func (s *Segment) TrimBefore(pos uint64) int64 {
	n := s.length.Load()
	pos = min(pos, n)
	head := s.head.Load()
	if pos <= head {
		return 0
	}
	s.trimmedTo = pos
	// Only the writer changes the directories, and the caller makes us the
	// writer, so reading them here needs no lock.
	var freed int64
	for p := head; p < pos; p++ {
		freed += s.RecordSize(p)
	}
	var dropSlab uint64 // slabs below it hold no live record
	if pos == s.wlen {
		// Nothing live: keep only the newest slab (being filled, or, in a
		// durable segment, the file that says where positions go on) and
		// the chunk the next append writes into.
		dropSlab = uint64(s.slabNext) - 1
	} else {
		dropSlab = uint64(s.slabNext) - 1
		for p := pos; p < s.wlen; p++ { // lost records have no slab: the first that has
			if n := s.entryAt(p).slab; n != noSlab {
				dropSlab = uint64(n)
				break
			}
		}
	}
	s.mu.Lock()
	s.head.Store(pos)
	from := s.slabs.base
	s.slabs.dropBefore(dropSlab)
	s.chunks.dropBefore(min(pos, s.wlen-1) >> chunkShift)
	s.mu.Unlock()
	if st := s.opt.Storage; st != nil {
		for n := from; n < dropSlab; n++ {
			st.DropSlab(uint32(n))
		}
	}
	s.bytes.Add(-freed)
	return freed
}

// LastMillis returns the arrival time of the newest record written,
// trimmed or not, if its entry is still held (the chunk the next append
// writes into always is). Serialized with Add.
func (s *Segment) LastMillis() (int64, bool) {
	if s.wlen == 0 || !s.chunks.has((s.wlen-1)>>chunkShift) {
		return 0, false
	}
	return s.entryAt(s.wlen - 1).millis, true
}

// RecordSize returns the key plus data bytes of the written record at pos.
// Like TrimBefore, it must be serialized with Add.
func (s *Segment) RecordSize(pos uint64) int64 {
	e := s.entryAt(pos)
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
	Gen    uint8  // the generation of the data key Data is encrypted with; 0: not encrypted
	Slab   uint32 // the number of the slab (a durable segment's file) that holds it
}

// Cursor reads records in position order. It caches the chunk and slab it is
// in and the length it last saw, so the common step is a few loads and no
// lock. A Cursor is not safe for concurrent use.
type Cursor struct {
	seg     *Segment
	pos     uint64
	limit   uint64 // a length seen earlier; positions below it are complete
	chunk   chunk
	chunkNo uint64
	slab    []byte
	slabNo  uint32
	unsure  bool   // check each record's frame in slab (see Storage.LoadSlab)
	seed    uint32 // with unsure, the checksum seed of slab's frames
	err     error
}

// Cursor returns a cursor positioned at pos.
func (s *Segment) Cursor(pos uint64) Cursor {
	return Cursor{seg: s, pos: pos, chunkNo: ^uint64(0), slabNo: noCachedSlab}
}

// noCachedSlab is a cursor's slabNo before it has a slab: no record has it,
// lost ones (noSlab) included, so that any record's slab is fetched first.
const noCachedSlab = noSlab - 1

// Pos returns the position the next call to Next reads.
func (c *Cursor) Pos() uint64 { return c.pos }

// Seek moves the cursor to pos, and forgets the last error.
func (c *Cursor) Seek(pos uint64) { c.pos, c.err = pos, nil }

// Err returns why Next last returned false if it was not the end of the
// records: a *DamageError for records that cannot be read. The cursor stays
// at the first of them; Seek past them to read on.
func (c *Cursor) Err() error { return c.err }

// DamageError reports stored records that cannot be read back: their file
// is missing or unreadable, their frames fail their checksums, or opening
// found them gone.
type DamageError struct {
	From, To uint64 // the positions [From, To)
	Err      error  // what is wrong with them
}

func (e *DamageError) Error() string {
	return fmt.Sprintf("records %d to %d are damaged: %v", e.From, e.To-1, e.Err)
}

func (e *DamageError) Unwrap() error { return e.Err }

// Causes of a DamageError, beside the storage's own errors.
var (
	// ErrLost: opening found the records' frames gone; only their
	// positions are known.
	ErrLost = errors.New("segment: records lost")
	// ErrChecksum: the records' frames fail their checksums.
	ErrChecksum = errors.New("segment: records fail their checksums")
)

// Next reads the record at the cursor's position and advances. A position
// below Head is first moved up to Head (trimmed records are skipped). It
// returns false when the cursor is at Len, or when a record could not be
// read (see Err).
func (c *Cursor) Next(r *Record) bool {
	for {
		if c.pos >= c.limit || c.pos>>chunkShift != c.chunkNo || c.pos < c.seg.head.Load() {
			if !c.settle() {
				return false
			}
		}
		e := &c.chunk[c.pos&(chunkLen-1)]
		if e.slab != c.slabNo { // a lost record's (noSlab) never is
			switch c.fetchSlab(e) {
			case fetched:
			case trimmed:
				continue // start again from the head
			default:
				return false
			}
		}
		if c.unsure && !c.intact(e, c.pos) {
			c.damaged(ErrChecksum, func(e *entry, pos uint64) bool { return e.slab == c.slabNo && !c.intact(e, pos) })
			return false
		}
		kend := e.off + uint32(e.key)
		end := kend + e.data
		r.Pos = c.pos
		r.Key = ""
		if e.key > 0 {
			r.Key = unsafe.String(&c.slab[e.off], int(e.key))
		}
		r.Data = c.slab[kend:end:end]
		r.Millis, r.Gen, r.Slab = e.millis, e.gen, e.slab
		c.pos++
		return true
	}
}

// intact reports whether the frame of e, at pos, in the cursor's slab is
// whole.
func (c *Cursor) intact(e *entry, pos uint64) bool {
	return segfile.CheckFrame(c.slab, c.seed, e.off, e.key, e.gen, e.data, pos)
}

// damaged sets Err for the records from the cursor's position on that
// same holds for.
func (c *Cursor) damaged(cause error, same func(*entry, uint64) bool) {
	s := c.seg
	to, n := c.pos+1, s.length.Load()
	s.mu.RLock()
	for to < n && to >= s.head.Load() && s.chunks.has(to>>chunkShift) {
		if e := &s.chunks.get(to >> chunkShift)[to&(chunkLen-1)]; !same(e, to) {
			break
		}
		to++
	}
	s.mu.RUnlock()
	c.err = &DamageError{From: c.pos, To: to, Err: cause}
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
	if no := c.pos >> chunkShift; no != c.chunkNo || int(c.pos&(chunkLen-1)) >= len(c.chunk) {
		s.mu.RLock()
		if h := s.head.Load(); c.pos < h {
			c.pos = h
			no = c.pos >> chunkShift
			if c.pos >= c.limit {
				s.mu.RUnlock()
				return false
			}
		}
		c.chunk, c.chunkNo = s.chunks.get(no), no
		s.mu.RUnlock()
	}
	// Past the positions the chunk covers, settle again (see chunk).
	c.limit = min(c.limit, c.chunkNo<<chunkShift+uint64(len(c.chunk)))
	return true
}

const (
	fetched = iota
	trimmed // the record at c.pos was trimmed meanwhile
	failed  // its slab could not be read back (c.err says why)
)

// fetchSlab makes the slab e points into the cursor's.
func (c *Cursor) fetchSlab(e *entry) int {
	c.err = nil
	if e.slab == noSlab {
		c.damaged(ErrLost, func(e *entry, _ uint64) bool { return e.slab == noSlab })
		return failed
	}
	s := c.seg
	s.mu.RLock()
	if c.pos < s.head.Load() {
		s.mu.RUnlock()
		return trimmed
	}
	b := s.slabs.get(uint64(e.slab))
	unsure := s.unsure[e.slab]
	s.mu.RUnlock()
	if b == nil {
		var err error
		if b, unsure, err = s.load(e.slab); err != nil {
			if errors.Is(err, errTrimmed) {
				return trimmed
			}
			n := e.slab
			c.damaged(err, func(e *entry, _ uint64) bool { return e.slab == n })
			return failed
		}
	}
	c.slab, c.slabNo, c.unsure = b, e.slab, unsure
	if unsure { // from its header: an older file's frames have another seed
		c.seed = segfile.SeedOf(b, s.opt.Seed)
	}
	return fetched
}

var errTrimmed = errors.New("segment: trimmed meanwhile")

// load reads durable slab n back into memory, where it stays until newer
// loads push it out. unsure says its records must be checked one by one.
func (s *Segment) load(n uint32) (b []byte, unsure bool, err error) {
	s.loadMu.Lock()
	defer s.loadMu.Unlock()
	s.mu.RLock()
	live := s.slabs.has(uint64(n))
	if live {
		b, unsure = s.slabs.get(uint64(n)), s.unsure[n]
	}
	s.mu.RUnlock()
	switch {
	case !live:
		return nil, false, errTrimmed
	case b != nil:
		return b, unsure, nil // loaded meanwhile
	}
	b, whole, err := s.opt.Storage.LoadSlab(n)
	if err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	if s.slabs.has(uint64(n)) {
		s.slabs.set(uint64(n), b)
		if !whole {
			if s.unsure == nil {
				s.unsure = map[uint32]bool{}
			}
			s.unsure[n] = true
		}
		s.keepLocked(n)
	}
	s.mu.Unlock()
	return b, !whole, nil
}

// Entry describes a stored record for Restore.
type Entry = segfile.Entry

// Restore rebuilds a durable segment opened from its files: start says the
// position and slab number of the first file kept; each RestoreSlab then
// appends a finished slab's records, not in memory.
func (s *Segment) Restore(first uint64, slab uint32) {
	s.wlen, s.slabNext = first, slab
	s.head.Store(first)
	s.length.Store(first)
	s.mu.Lock()
	s.chunks.base = first >> chunkShift
	s.slabs.base = uint64(slab)
	if first&(chunkLen-1) != 0 { // Add starts a chunk only at its first position
		s.wchunk = make(chunk, chunkSize(first))
		s.chunks.push(s.wchunk)
	}
	s.mu.Unlock()
}

// RestoreSlab appends the records of finished slab n, whose first frame
// starts at off, as they are on disk, and publishes them. n is at least
// every slab so far (a slab whose frames are damaged in the middle is
// restored in runs, with RestoreLost between them). The slab is read back
// when a reader needs it.
func (s *Segment) RestoreSlab(n uint32, off uint32, entries segfile.Entries) {
	s.mu.Lock()
	for s.slabs.base+uint64(s.slabs.count()) <= uint64(n) {
		s.slabs.push(nil) // numbers with no file (dropped by a rollback) stay empty
	}
	s.mu.Unlock()
	for e := range entries.From(off) {
		s.restoreEntry(entry{slab: n, off: e.KeyOff, data: e.Data, key: e.Key, gen: e.Gen, millis: e.Millis})
	}
	s.slabNext = max(s.slabNext, n+1)
	s.Publish()
}

// RestoreLost appends count records that opening found damaged beyond
// reading (their frames are gone), dated millis, and publishes them: they
// keep their positions, so that records after them keep theirs, and a
// cursor that reaches them fails with a DamageError (ErrLost).
func (s *Segment) RestoreLost(count uint64, millis int64) {
	for range count {
		s.restoreEntry(entry{slab: noSlab, millis: millis})
	}
	s.Publish()
}

func (s *Segment) restoreEntry(e entry) {
	pos := s.wlen
	if pos&(chunkLen-1) == 0 || s.wchunk == nil {
		s.startChunk(pos)
	} else if int(pos&(chunkLen-1)) >= len(s.wchunk) {
		s.growChunk(pos)
	}
	s.wchunk[pos&(chunkLen-1)] = e
	s.wbytes += int64(e.key) + int64(e.data)
	s.wlen++
}

// SkipSlabs makes the next new slab number at least n: a durable segment
// never reuses the number of a file that exists.
func (s *Segment) SkipSlabs(n uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slabs.count() == 0 {
		s.slabs.base = uint64(max(n, s.slabNext))
	}
	for s.slabNext < n {
		if uint64(s.slabNext) >= s.slabs.base {
			s.slabs.push(nil)
		}
		s.slabNext++
	}
}

// TrimRestored sets the head of a restored segment to pos (a head kept in
// the account's manifest) without telling the storage: the files below it
// are deleted by the next trim that passes them.
func (s *Segment) TrimRestored(pos uint64) {
	if pos > s.head.Load() && pos <= s.wlen {
		s.TrimBefore(pos)
	}
}

// Alloc returns n bytes of fresh memory with its pages faulted in, for a
// slab read back from storage.
func Alloc(n int) []byte {
	b := make([]byte, n)
	prefault(b)
	return b
}
