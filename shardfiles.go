package shardlog

import (
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/shardlog/shardlog/internal/segfile"
	"github.com/shardlog/shardlog/internal/segment"
	"github.com/shardlog/shardlog/internal/vfs"
)

// shardFiles keeps a durable shard's records in files: one per slab of its
// segment (a segment.Storage), named by slab number, plus an index file
// that lists the records of every finished file, so that opening reads the
// index rather than every record. See FORMAT.md.
//
// A file is indexed only once it is durable: an index record promises that
// its file holds what the record says, so that a file shorter than its
// record is damage, never a crash's doing. Files not yet indexed when the
// power fails are scanned at opening, like the file being written.
type shardFiles struct {
	st     *store
	dir    string // streams/<incarnation>; or streams/<incarnation>/<shard index>, as older stores have it
	prefix string // "<shard index>-" before each of its file names; "" in a directory of its own
	stream string // for messages
	hdr    segfile.Header

	// Guarded by the shard's mu (the segment calls the Storage methods
	// with it held), except files, which readers reach through LoadSlab.
	active    *openFile             // the file being written
	finishing *openFile             // the file written before it, between NewSlab and its FinishSlab
	retired   []*openFile           // finished, not yet synced
	dirDirty  bool                  // a file was created since the directory was synced
	removed   map[uint32]dropReason // while opening: files it deleted
	blank     map[uint32]bool       // while opening: files with no header and no record; true if not all zeros
	doomed    []uint32              // files to delete once the index says so durably
	spare     *spareFile            // the next file, made ready in the background
	parking   bool                  // the shard is idle: a small file finished now is left to opening's scan (see parkIfIdle)
	indexing  sync.WaitGroup        // files being synced in the background to be indexed
	lazy      []lazyFile            // under SyncNone: finished, to be synced and indexed later
	lazyBusy  atomic.Bool           // a goroutine is syncing and indexing lazy files

	imu        sync.Mutex // guards the index, which background syncs append to
	index      vfs.File   // the index file, opened at the first record
	indexEnd   int64
	indexDirty bool // a deletion is recorded in it but not synced

	mu    sync.Mutex // guards files
	files map[uint32]fileInfo
}

// openFile is a segment file being written or waiting to be synced.
type openFile struct {
	n      uint32
	f      vfs.File
	mem    []byte // its mapping
	synced int    // bytes of it known durable
	syncAt uint64 // the position of the record at synced (see segfile.Mark)
	marked int    // the sync mark on disk (under SyncAlways): bytes below it durable
	end    int    // bytes in use once finished; 0 while being written
	refs   int    // syncs in flight that use it; it is closed at 0 once done
	done   bool   // finished and synced (or given up): close at refs 0
	index  []byte // once finished: its index record, appended once it is durable
}

// fileInfo is what reading a finished file back needs.
type fileInfo struct {
	first     uint64
	count     uint64 // positions from first it holds, damaged ones too
	framesEnd int64
	framesCRC uint32
	unwritten []byte // finished, not mapped, not yet written (see mapped): its image
	unsure    bool   // damaged: its records are checked one by one when read back
	lost      error  // missing or unreadable: none of its records can be read
}

func (st *store) newShardFiles(s *Stream, sh *shard) *shardFiles {
	return &shardFiles{
		st:     st,
		dir:    st.streamDir(s.inc),
		prefix: strconv.FormatUint(uint64(sh.index), 10) + "-",
		stream: s.name,
		hdr:    segfile.Header{Stream: s.inc, Shard: sh.index},
	}
}

func (sf *shardFiles) fileName(n uint32) string {
	return sf.path(fmt.Sprintf("%010d.seg", n))
}

// path returns the path of the shard's file called name.
func (sf *shardFiles) path(name string) string {
	return path.Join(sf.dir, sf.prefix+name)
}

// NewSlab creates, reserves and maps file n, or takes it ready-made with
// the memory of its heap copy, and has the one after it made ready in the
// background.
func (sf *shardFiles) NewSlab(n uint32, first uint64, size int) (mirror, heap []byte, err error) {
	var f vfs.File
	var mem []byte
	entered := false // the file and its directory entry are durable
	if sp := sf.takeSpare(n, size); sp != nil {
		f, mem, heap, entered = sp.f, sp.mem, sp.heap, sp.written
	} else if f, mem, err = sf.createFile(n, size); err != nil {
		return nil, nil, err
	}
	if mem == nil { // not mapped (see mapped): syncs write from the heap copy
		if heap == nil {
			heap = make([]byte, size)
		}
		mem = heap
	}
	h := sf.hdr
	h.File, h.First, h.Created, h.Size = n, first, sf.st.clock.Now().UnixMilli(), uint32(size)
	segfile.PutHeader(mem, h)
	sf.finishing = sf.active // the segment finishes it next
	sf.active = &openFile{n: n, f: f, mem: mem, syncAt: first}
	sf.dirDirty = sf.dirDirty || !entered
	if next := min(2*size, sf.st.segmentSize); next >= spareMin { // the size the segment asks for next
		sf.prepare(n+1, next)
	}
	return mem, heap, nil
}

// spareMin is the least size of a file made ahead of need: smaller ones,
// the first files of a shard, are made when needed, so that an idle shard
// holds one small file and no spare.
const spareMin = 64 << 10

// markEvery is how far, in bytes, a SyncAlways file's sync mark may trail
// what is durable before it is written again (see flush).
const markEvery = 16 << 10

// mapped reports whether records are written into a shared mapping of
// their file as they are appended. Under SyncEvery and SyncNone they must
// be, so that a crash of the process loses none: the kernel has them.
// Under SyncAlways a record not yet synced was not acknowledged, so a sync
// writes the new bytes from the heap copy instead (pwrite, then
// fdatasync), which is faster than msync of the mapping, whose every page
// then faults again on the next write.
func (sf *shardFiles) mapped() bool { return sf.st.policy.kind != syncAlways }

// createFile creates file n of size zero bytes, reserves its blocks and
// maps it (see mapped), ready for writing (which costs time in proportion
// to its size: better paid ahead of time than by a writer).
func (sf *shardFiles) createFile(n uint32, size int) (vfs.File, []byte, error) {
	fs := sf.st.fs
	name := sf.fileName(n)
	f, err := fs.Create(name)
	if err != nil {
		return nil, nil, err
	}
	var mem []byte
	if err = f.Allocate(int64(size)); err == nil && sf.mapped() {
		mem, err = f.Map(size)
	}
	if err != nil {
		f.Close()
		_ = fs.Remove(name)
		return nil, nil, err
	}
	return f, mem, nil
}

// spareFile is the next segment file of a shard, created by a goroutine of
// its own ahead of need.
type spareFile struct {
	n    uint32
	size int
	done chan struct{} // closed when f, mem and err are set
	f    vfs.File
	mem  []byte
	heap []byte // the segment's copy of the file, faulted in (about 1 ms a MiB here)
	err  error

	written bool // its blocks hold zeros, synced with the directory (see prewrite)
}

// prepare starts creating file n of size bytes in the background, unless
// one is being made already or the store is busy (then the writer makes it
// when it needs it).
func (sf *shardFiles) prepare(n uint32, size int) {
	if sf.spare != nil {
		return
	}
	sp := &spareFile{n: n, size: size, done: make(chan struct{})}
	if sf.st.background(func() {
		sp.f, sp.mem, sp.err = sf.createFile(n, size)
		if sp.err == nil && !sf.mapped() {
			if err := sf.prewrite(sp.f, size); err != nil {
				sf.discard(sp)
				sp.err = err
			} else {
				sp.written = true
			}
		}
		if sp.err == nil {
			sp.heap = segment.Alloc(size)
		}
		close(sp.done)
	}) {
		sf.spare = sp
	}
}

// takeSpare returns the spare file if it is file n of size bytes, waiting
// for it if need be; otherwise it deletes it and returns nil.
func (sf *shardFiles) takeSpare(n uint32, size int) *spareFile {
	sp := sf.spare
	if sp == nil {
		return nil
	}
	sf.spare = nil
	<-sp.done
	if sp.err == nil && sp.n == n && sp.size == size {
		return sp
	}
	sf.discard(sp)
	return nil
}

// prewrite writes zeros over a new file's reserved blocks and syncs them,
// then the directory's entry for the file. Under SyncAlways every later
// sync then overwrites written blocks, which fdatasync flushes alone:
// blocks reserved by fallocate are unwritten extents (ext4, XFS), and the
// first write to one changes the file's extent tree, which the sync must
// commit to the journal as well, which makes such a sync markedly slower
// (BenchmarkDurablePut shows it). The price is writing each file twice,
// off the writer's path.
func (sf *shardFiles) prewrite(f vfs.File, size int) error {
	if err := vfs.WriteZeros(f, 0, int64(size)); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return sf.st.fs.SyncDir(sf.dir)
}

// dropSpare deletes the spare file, if one was made.
func (sf *shardFiles) dropSpare() {
	if sp := sf.spare; sp != nil {
		sf.spare = nil
		<-sp.done
		sf.discard(sp)
	}
}

// discard deletes a spare file that will not be used.
func (sf *shardFiles) discard(sp *spareFile) {
	if sp.err == nil {
		sp.f.Close()
		_ = sf.st.fs.Remove(sf.fileName(sp.n))
	}
}

// FinishSlab prepares file n's index record, and retires the file until it
// is synced (under SyncNone, syncs it in the background), to be indexed
// then.
func (sf *shardFiles) FinishSlab(n uint32, image []byte) {
	buf := indexBufs.Get().(*indexBuf)
	buf.entries = buf.entries[:0]
	count := segfile.Walk(image, segfile.HeaderSize, func(e segfile.Entry) { buf.entries = buf.entries.Append(e) })
	info := fileInfo{first: sf.firstOf(n, image), count: count, framesEnd: int64(len(image)), framesCRC: segfile.Checksum(image[segfile.HeaderSize:])}
	var rec []byte
	if !sf.parking || len(image) >= spareMin {
		rec = indexRecordOf(n, info, buf.entries)
	}
	indexBufs.Put(buf)
	sf.mu.Lock()
	sf.noteFile(n, info)
	sf.mu.Unlock()
	var a *openFile
	switch {
	case sf.finishing != nil && sf.finishing.n == n:
		a, sf.finishing = sf.finishing, nil
	case sf.active != nil && sf.active.n == n: // Roll, or Rollback's
		a, sf.active = sf.active, nil
	default:
		for _, r := range sf.retired {
			if r.n == n { // Rollback shortens a file not yet synced
				r.end = min(r.end, len(image))
				r.synced = min(r.synced, r.end)
				r.index = rec
				sf.keepUnwritten(n, image)
			}
		}
		return
	}
	a.end, a.index = len(image), rec
	if a.synced < a.end {
		sf.keepUnwritten(n, image)
	}
	switch {
	case a.synced >= a.end: // durable already (Close syncs, then rolls)
		sf.indexDurable(a)
		a.done = true
		sf.release(a)
	case sf.st.policy.kind == syncNone:
		sf.indexLater(a)
	default:
		sf.retired = append(sf.retired, a)
	}
}

// noteFile records finished file n, making the map on first use (an idle
// shard has none). sf.mu is held, or opening is under way.
func (sf *shardFiles) noteFile(n uint32, info fileInfo) {
	if sf.files == nil {
		sf.files = map[uint32]fileInfo{}
	}
	sf.files[n] = info
}

// keepUnwritten lets readers load finished file n from image until a sync
// writes it: without a mapping the file does not hold it yet.
func (sf *shardFiles) keepUnwritten(n uint32, image []byte) {
	if sf.mapped() {
		return
	}
	sf.mu.Lock()
	if info, ok := sf.files[n]; ok {
		info.unwritten = image
		sf.files[n] = info
	}
	sf.mu.Unlock()
}

// indexDurable appends the index record of a file now durable.
func (sf *shardFiles) indexDurable(a *openFile) {
	if a.index == nil {
		return
	}
	if err := sf.appendIndex(a.index); err != nil {
		// The index only saves opening a scan of the file.
		sf.st.log.Warn("shardlog: could not index a segment file", "file", sf.fileName(a.n), "err", err)
	}
	a.index = nil
}

// firstOf returns the first position of file n, from its header.
func (sf *shardFiles) firstOf(n uint32, image []byte) uint64 {
	h, err := segfile.ParseHeader(image)
	if err != nil || h.File != n {
		panic("shardlog: a segment image without its header")
	}
	return h.First
}

// LoadSlab reads finished file n back and checks it: against the checksum of
// its frames as a whole, and if that fails (or the file is known damaged),
// record by record (whole is then false, see segment.Storage). Damage found
// is reported once per file.
func (sf *shardFiles) LoadSlab(n uint32) (image []byte, whole bool, err error) {
	sf.mu.Lock()
	info, ok := sf.files[n]
	sf.mu.Unlock()
	name := sf.fileName(n)
	switch {
	case !ok:
		return nil, false, fmt.Errorf("%s: not a finished segment file", name)
	case info.unwritten != nil:
		return info.unwritten, true, nil
	case info.lost != nil:
		return nil, false, info.lost
	}
	f, err := sf.st.fs.Open(name)
	if err != nil {
		sf.st.noteCorrupt(sf, name, err)
		return nil, false, err
	}
	defer f.Close()
	b := segment.Alloc(int(info.framesEnd))
	k, err := f.ReadAt(b, 0)
	switch {
	case err == io.EOF:
		clear(b[k:]) // cut short: the frames past its end fail their checks
		err = fmt.Errorf("%w: %d bytes long, its records end at %d", segfile.ErrCorrupt, k, info.framesEnd)
	case err != nil:
		sf.st.noteCorrupt(sf, name, err)
		return nil, false, err
	}
	h, herr := segfile.ParseHeader(b)
	if herr == nil && (h.File != n || h.Stream != sf.hdr.Stream || h.Shard != sf.hdr.Shard) {
		err = fmt.Errorf("%w: header of another file", segfile.ErrCorrupt)
		sf.st.noteCorrupt(sf, name, err)
		return nil, false, err
	}
	if err == nil && herr != nil {
		err = herr
	}
	if err == nil && !info.unsure && (h.First != info.first || segfile.Checksum(b[segfile.HeaderSize:]) != info.framesCRC) {
		err = fmt.Errorf("%w: records do not match their checksum", segfile.ErrCorrupt)
	}
	if err != nil {
		sf.st.noteCorrupt(sf, name, err)
	}
	return b, err == nil && !info.unsure, nil
}

// DropSlab deletes file n, whose records were trimmed.
func (sf *shardFiles) DropSlab(n uint32) { sf.drop(n, trimmed) }

// DiscardSlab deletes file n, whose records were rolled back.
func (sf *shardFiles) DiscardSlab(n uint32) { sf.drop(n, discarded) }

func (sf *shardFiles) drop(n uint32, why dropReason) {
	for _, p := range []**openFile{&sf.active, &sf.finishing} {
		if a := *p; a != nil && a.n == n {
			*p = nil
			a.done = true
			sf.release(a)
		}
	}
	for i, r := range sf.retired {
		if r.n == n {
			sf.retired = slices.Delete(sf.retired, i, i+1)
			r.done = true
			sf.release(r)
			break
		}
	}
	sf.forgetLazy(n)
	sf.mu.Lock()
	delete(sf.files, n)
	sf.mu.Unlock()
	if err := sf.remove(n, why); err != nil {
		sf.st.log.Warn("shardlog: could not delete a segment file", "file", sf.fileName(n), "err", err)
	}
	sf.maybeCompactIndex()
}

// remove deletes file n on purpose, and says so in the index, with why. A
// read-only account deletes nothing.
func (sf *shardFiles) remove(n uint32, why dropReason) error {
	if sf.removed != nil {
		sf.removed[n] = why
	}
	if sf.st.readOnly {
		return nil
	}
	// The index says the file was deleted on purpose (its records expired,
	// were dropped for a size bound, or were never acknowledged), so that
	// opening can tell a file deleted by accident. It is synced before the
	// directory is (see syncJob.run).
	if err := sf.appendIndex(appendDropped(nil, n, n+1, why)); err != nil {
		return err
	}
	sf.imu.Lock()
	sf.indexDirty = true
	sf.imu.Unlock()
	if sf.removed != nil || sf.st.policy.kind != syncNone {
		// The next sync (or the end of opening) deletes it, after the
		// index: a sync of the directory, by any shard of the stream,
		// could make the directory without the file durable first.
		sf.doomed = append(sf.doomed, n)
		return nil
	}
	return sf.unlink(n)
}

// unlink deletes file n's name.
func (sf *shardFiles) unlink(n uint32) error {
	if err := sf.st.fs.Remove(sf.fileName(n)); err != nil && !errors.Is(err, errNotExist) {
		return err
	}
	return nil
}

// release closes f once no sync uses it and it needs none.
func (sf *shardFiles) release(f *openFile) {
	if f.done && f.refs == 0 && f.f != nil {
		file := f.f
		f.f, f.mem = nil, nil
		if !sf.st.background(func() { file.Close() }) { // unmapping takes a while
			file.Close()
		}
	}
}

// dirtyLocked reports whether something written is not yet synced.
func (sf *shardFiles) dirtyLocked() bool {
	sf.imu.Lock()
	defer sf.imu.Unlock()
	return sf.dirDirty || sf.indexDirty || len(sf.retired) > 0
}

// syncJob is one sync of a shard's files, prepared under the shard's lock
// and run without it.
type syncJob struct {
	sf         *shardFiles
	syncDir    bool
	indexDirty bool     // the index records deletions: synced first
	doomed     []uint32 // then these files are deleted
	retired    []*openFile
	active     *openFile
	from, to   int    // the active file's range to sync
	toPos      uint64 // the position after its last record
	// The ranges to flush, taken with the shard locked: writers change
	// the files' fields while the job runs unlocked. The active file's is
	// last (its f nil if none).
	retiredSpans []flushSpan
	activeSpan   flushSpan
}

// flushSpan is a range of a file to make durable.
type flushSpan struct {
	f        *openFile
	from, to int
	last     bool   // to is the file's end: its mark is written
	syncAt   uint64 // the position of the record at from
}

// syncJobLocked prepares a sync of everything written: the directory if a
// file was created, the retired files, and the active file up to used.
func (sf *shardFiles) syncJobLocked(used int, written uint64) syncJob {
	j := syncJob{sf: sf, syncDir: sf.dirDirty}
	sf.dirDirty = false
	sf.imu.Lock()
	j.indexDirty, sf.indexDirty = sf.indexDirty, false
	sf.imu.Unlock()
	if len(sf.doomed) > 0 {
		j.doomed, sf.doomed, j.syncDir = sf.doomed, nil, true
	}
	for _, r := range sf.retired {
		r.refs++
		j.retired = append(j.retired, r)
		j.retiredSpans = append(j.retiredSpans, flushSpan{f: r, from: r.synced, to: r.end, last: true, syncAt: r.syncAt})
	}
	if a := sf.active; a != nil && used > a.synced {
		a.refs++
		j.active, j.from, j.to, j.toPos = a, a.synced, used, written
		j.activeSpan = flushSpan{f: a, from: a.synced, to: used, last: used == a.end, syncAt: a.syncAt}
	}
	return j
}

func (j *syncJob) run() error {
	// The index first: a deletion it records must be durable before the
	// directory without the file is.
	if j.indexDirty {
		if err := j.sf.syncIndex(); err != nil {
			return err
		}
	}
	for i, n := range j.doomed {
		if err := j.sf.unlink(n); err != nil {
			j.doomed = j.doomed[i:] // the rest is deleted by the next sync
			return err
		}
	}
	j.doomed = nil
	if j.syncDir {
		if err := j.sf.st.fs.SyncDir(j.sf.dir); err != nil {
			return err
		}
	}
	for _, sp := range j.retiredSpans {
		if err := j.sf.flush(sp); err != nil {
			return err
		}
	}
	if j.activeSpan.f != nil {
		return j.sf.flush(j.activeSpan)
	}
	return nil
}

// flush makes the span's bytes durable. It writes the file's sync
// mark first: the bytes below from are durable, as the last sync made
// them. Under SyncAlways the mark is written with the data and synced with
// it; in a mapping, it reaches the disk when the system writes its page
// back (it is never ahead of what is durable either way).
func (sf *shardFiles) flush(sp flushSpan) error {
	f, from, to := sp.f, sp.from, sp.to
	segfile.PutMark(f.mem, segfile.Mark{Off: uint32(from), Pos: sp.syncAt})
	if sf.mapped() {
		return f.f.SyncMapped(from, to-from)
	}
	if from >= segfile.HeaderSize && (from-f.marked >= markEvery || sp.last) {
		// A second page to write costs a small sync a tenth more: the mark
		// is written when it has moved markEvery, and when the file is
		// finished.
		if _, err := f.f.WriteAt(f.mem[:segfile.HeaderSize], 0); err != nil {
			return err
		}
		f.marked = from
	}
	if to > from {
		if _, err := f.f.WriteAt(f.mem[from:to], int64(from)); err != nil {
			return err
		}
	}
	return f.f.Sync()
}

// syncDoneLocked records the outcome of j. Files whose sync failed are
// given up: they are never synced again.
func (sf *shardFiles) syncDoneLocked(j syncJob, err error) {
	if err != nil && j.syncDir {
		sf.dirDirty = true
	}
	if err != nil && j.indexDirty {
		sf.imu.Lock()
		sf.indexDirty = true
		sf.imu.Unlock()
	}
	sf.doomed = append(sf.doomed, j.doomed...)
	for _, r := range j.retired {
		r.refs--
		if err == nil {
			r.synced = r.end
			sf.indexDurable(r)
			sf.mu.Lock()
			if info, ok := sf.files[r.n]; ok {
				info.unwritten = nil
				sf.files[r.n] = info
			}
			sf.mu.Unlock()
		}
		r.done = true
		sf.retired = slices.DeleteFunc(sf.retired, func(x *openFile) bool { return x == r })
		sf.release(r)
	}
	if a := j.active; a != nil {
		a.refs--
		if err == nil && j.to > a.synced {
			a.synced, a.syncAt = j.to, j.toPos
		}
		sf.release(a)
	}
}

// closeLocked syncs nothing more and closes every open file; the shard's
// records that were written stay in the page cache.
func (sf *shardFiles) closeLocked() {
	for _, f := range append(sf.retired, sf.active, sf.finishing) {
		if f != nil {
			f.done = true
			sf.release(f)
		}
	}
	sf.retired, sf.active, sf.finishing = nil, nil, nil
	sf.dropSpare()
	sf.indexing.Wait()
	sf.syncAndIndex(sf.lazy) // the kernel has written back most of them by now
	sf.lazy = nil
	sf.imu.Lock()
	defer sf.imu.Unlock()
	sf.dirDirty, sf.indexDirty = false, false // the index is synced below, once
	if sf.index != nil {
		err := sf.index.Sync() // saves the next opening a scan
		if err != nil {
			sf.st.log.Warn("shardlog: could not sync a segment index", "dir", sf.dir, "err", err)
		}
		sf.index.Close()
		sf.index = nil
		for _, n := range sf.doomed {
			if err == nil { // otherwise opening deletes them
				_ = sf.unlink(n)
			}
		}
	}
	sf.doomed = nil
}

// indexRecordOf encodes the index record of file n.
func indexRecordOf(n uint32, info fileInfo, entries segfile.Entries) []byte {
	r := segfile.IndexRecord{File: n, First: info.first, Count: info.count, FramesEnd: uint64(info.framesEnd), FramesCRC: info.framesCRC, Entries: entries}
	return segfile.AppendIndexRecord(make([]byte, 0, segfile.IndexRecordSize(entries.Len())), r)
}

// appendIndex appends an encoded record to the index.
func (sf *shardFiles) appendIndex(rec []byte) error {
	sf.imu.Lock()
	defer sf.imu.Unlock()
	if sf.index == nil {
		if err := sf.openIndex(-1); err != nil {
			return err
		}
	}
	if _, err := sf.index.WriteAt(rec, sf.indexEnd); err != nil {
		sf.index.Close()
		sf.index = nil // reopened, at its real end, next time
		return err
	}
	sf.indexEnd += int64(len(rec))
	return nil
}

// syncIndex makes the index durable. It holds sf.imu meanwhile, so that
// a compaction does not close the file under it.
func (sf *shardFiles) syncIndex() error {
	sf.imu.Lock()
	defer sf.imu.Unlock()
	if sf.index == nil { // closed after a failed write: reopened by name
		if err := sf.openIndex(-1); err != nil {
			return err
		}
	}
	return sf.index.Sync()
}

// openIndex opens the index file, creating it if need be, to append at
// its end, or at cut (then it is truncated there) if cut is not negative.
// sf.imu is held, or opening is under way.
func (sf *shardFiles) openIndex(cut int64) error {
	name := sf.path("index")
	f, err := sf.st.fs.OpenReadWrite(name)
	if errors.Is(err, errNotExist) {
		f, err = sf.st.fs.Create(name)
	}
	if err != nil {
		return err
	}
	size := cut
	if cut >= 0 {
		err = f.Truncate(cut)
	} else {
		size, err = f.Size()
	}
	if err != nil {
		f.Close()
		return err
	}
	sf.index, sf.indexEnd = f, size
	return nil
}

// indexBuf is scratch space for finishing a file: its entries. Pooled: a
// file of 1 MiB has thousands of records.
type indexBuf struct {
	entries segfile.Entries
}

var indexBufs = sync.Pool{New: func() any { return new(indexBuf) }}

// indexRecord is a decoded index record.
type indexRecord struct {
	info    fileInfo
	entries segfile.Entries
}

// syncFile makes a file's content durable.
func syncFile(fs vfs.FS, name string) error {
	f, err := fs.Open(name)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readFile reads a whole file.
func readFile(fs vfs.FS, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	b := make([]byte, size)
	return b, readAt(f, b)
}

// readAt fills b from the start of f. A large file is read in a few parts
// at once: a disk that serves queued reads in parallel (this VM's does)
// reads 200 MB in half the time.
func readAt(f vfs.File, b []byte) error {
	const part = 16 << 20
	if len(b) < 2*part {
		if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
			return err
		}
		return nil
	}
	const parts = 4
	size := (len(b) + parts - 1) / parts
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for i := range parts {
		lo, hi := i*size, min((i+1)*size, len(b))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.ReadAt(b[lo:hi], int64(lo)); err != nil && err != io.EOF {
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
