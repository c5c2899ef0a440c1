package vfs

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// MemFS is a strict in-memory file system for crash tests. Writes reach a
// file's "page cache" at once and its "disk" only on Sync; creations,
// renames and removals reach the disk only when their directory is synced.
// Crash (a power cut) keeps what reached the disk and nothing else, and
// makes every file handle of before the crash fail. Fail injects errors
// into chosen operations. The zero value is not usable: call NewMemFS.
type MemFS struct {
	mu         sync.Mutex        // guards everything below
	gen        int               // bumped by Crash; handles of older generations fail
	files      map[string]*inode // the namespace as the running system sees it
	durable    map[string]*inode // the namespace on disk
	dirs       map[string]bool   // directories, as the running system sees them
	dirsDisk   map[string]bool   // directories on disk
	locks      map[string]int    // held locks on directories: shared holders, or -1 for an exclusive one
	faults     []*fault          // pending injected failures
	readOnly   bool              // every change fails with EROFS
	capacity   int64             // bytes the files may hold together; 0: no bound
	counts     map[Op]int        // operations done, by kind
	crashIn    int               // operations until the power fails; 0: never
	crashRNG   *rand.Rand        // with crashIn: tear the unsynced writes
	pending    bool              // a power cut happened in an operation; not settled yet
	pendingRNG *rand.Rand
}

// inode is a file's content: what the running system reads (data) and what
// is on disk (disk).
type inode struct {
	data   []byte
	disk   []byte
	mapped bool
	// Bytes of data written since the last sync, unless mapped (then a
	// sync compares it all): a sync copies only these.
	dirtyLo, dirtyHi int
}

// touch records that data[lo:hi] changed.
func (n *inode) touch(lo, hi int) {
	if n.dirtyLo >= n.dirtyHi {
		n.dirtyLo, n.dirtyHi = lo, hi
		return
	}
	n.dirtyLo, n.dirtyHi = min(n.dirtyLo, lo), max(n.dirtyHi, hi)
}

// changed reports whether a sync would change what is on disk.
func (n *inode) changed() bool {
	if n.mapped {
		return !slices.Equal(n.disk, n.data)
	}
	return n.dirtyLo < n.dirtyHi || len(n.disk) != len(n.data)
}

// sync makes the disk hold data.
func (n *inode) sync() {
	if n.mapped {
		n.disk = slices.Clone(n.data)
		return
	}
	if len(n.disk) > len(n.data) {
		n.disk = n.disk[:len(n.data):len(n.data)]
	} else if len(n.disk) < len(n.data) {
		n.disk = append(n.disk, make([]byte, len(n.data)-len(n.disk))...)
	}
	if lo, hi := n.dirtyLo, min(n.dirtyHi, len(n.data)); lo < hi {
		copy(n.disk[lo:hi], n.data[lo:hi])
	}
	n.dirtyLo, n.dirtyHi = 0, 0
}

// Op is a kind of file-system operation that can be made to fail.
type Op int

// Operations that Fail can target.
const (
	OpWrite    Op = iota // File.WriteAt
	OpSync               // File.Sync
	OpAllocate           // File.Allocate
	OpTruncate           // File.Truncate
	OpCreate             // FS.Create
	OpRename             // FS.Rename
	OpRemove             // FS.Remove and FS.RemoveAll
	OpSyncDir            // FS.SyncDir
	OpMkdir              // FS.MkdirAll
)

type fault struct {
	op    Op
	after int // operations of kind op to let pass first
	err   error
}

// NewMemFS returns an empty file system with a root directory.
func NewMemFS() *MemFS {
	return &MemFS{
		files: map[string]*inode{}, durable: map[string]*inode{},
		dirs: map[string]bool{"/": true, ".": true}, dirsDisk: map[string]bool{"/": true, ".": true},
		locks: map[string]int{}, counts: map[Op]int{},
	}
}

// Fail makes the operation of kind op after the next `after` ones fail with
// err (syscall.ENOSPC, syscall.EIO, ...), once.
func (m *MemFS) Fail(op Op, after int, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = append(m.faults, &fault{op: op, after: after, err: err})
}

// ClearFaults cancels the pending injected failures.
func (m *MemFS) ClearFaults() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.faults = nil
}

// SetReadOnly makes every change fail with EROFS, as a file system that
// was remounted read-only.
func (m *MemFS) SetReadOnly(ro bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.readOnly = ro
}

// Clone returns a copy of the file system as the disk holds it after a
// clean shutdown: every file with what it holds now (synced or not), every
// directory, no lock, no handle, no pending fault.
func (m *MemFS) Clone() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMemFS()
	copies := map[*inode]*inode{}
	for name, n := range m.files {
		cp, ok := copies[n]
		if !ok {
			cp = &inode{data: slices.Clone(n.data)}
			cp.disk = slices.Clone(cp.data)
			copies[n] = cp
		}
		c.files[name], c.durable[name] = cp, cp
	}
	for d := range m.dirs {
		c.dirs[d], c.dirsDisk[d] = true, true
	}
	return c
}

// SetCapacity bounds the bytes the files may hold together, 0 for no
// bound: a write or an allocation past it fails with ENOSPC, as on a full
// disk; deleting a file frees its bytes.
func (m *MemFS) SetCapacity(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.capacity = n
}

// Used returns the bytes the files hold.
func (m *MemFS) Used() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.usedLocked()
}

func (m *MemFS) usedLocked() int64 {
	var n int64
	seen := map[*inode]bool{}
	for _, f := range m.files {
		if !seen[f] {
			seen[f] = true
			n += int64(len(f.data))
		}
	}
	return n
}

// grow checks that a file may take n more bytes. m.mu is held.
func (m *MemFS) grow(n int64) error {
	if m.capacity > 0 && n > 0 && m.usedLocked()+n > m.capacity {
		return syscall.ENOSPC
	}
	return nil
}

// Count returns how many operations of kind op were attempted.
func (m *MemFS) Count(op Op) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[op]
}

// CrashAfter makes the power fail at the operation after the next n (of any
// kind but reads): that one and every later one through a handle or a
// Process of before fail with ErrCrashed. With r, unsynced writes are torn
// as CrashTorn tears them.
func (m *MemFS) CrashAfter(n int, r *rand.Rand) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.crashIn, m.crashRNG = n+1, r
}

// Process returns a view of the file system for one run of a program: once
// the power fails, every operation through it fails with ErrCrashed, as the
// program died with the power. A program that runs after the crash takes a
// new Process.
func (m *MemFS) Process() FS {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settleLocked()
	return &memProc{m: m, gen: m.gen}
}

// Crash cuts the power: every file's content becomes what was synced,
// every directory what was synced, locks are released, and every handle
// opened before fails from now on.
func (m *MemFS) Crash() { m.crash(nil) }

// CrashTorn cuts the power like Crash, but, as disks do, keeps for each file
// a random prefix of what was written and not synced.
func (m *MemFS) CrashTorn(r *rand.Rand) { m.crash(r) }

func (m *MemFS) crash(r *rand.Rand) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.settleLocked()
	m.gen++
	m.crashLocked(r)
}

// settleLocked applies a power cut that CrashAfter made happen in the
// middle of an operation. It waits for the next program (or the test) to
// look, because the dying one may have been writing to a mapping from
// another goroutine: a real power cut stops those writes, a simulated one
// cannot, so it reads the mappings once the dead program's writer is done
// (a later write there is as if the power failed a moment later).
func (m *MemFS) settleLocked() {
	if m.pending {
		m.pending = false
		m.crashLocked(m.pendingRNG)
	}
}

// enter starts an operation of the program of generation gen (anyGen for
// the test itself): a program of before the last power cut is dead.
func (m *MemFS) enter(gen int) error {
	if gen != anyGen && gen != m.gen {
		return ErrCrashed
	}
	m.settleLocked()
	return nil
}

// start begins an operation op of the program of generation gen (see
// enter), failing it if a fault is due (see check).
func (m *MemFS) start(gen int, op Op, change bool) error {
	if err := m.enter(gen); err != nil {
		return err
	}
	return m.check(op, change)
}

// anyGen marks an operation made on the MemFS itself, not through a
// Process.
const anyGen = -1

func (m *MemFS) crashLocked(r *rand.Rand) {
	m.crashIn = 0
	files := map[string]*inode{}
	fresh := map[*inode]*inode{}
	for name, n := range m.durable {
		c, ok := fresh[n]
		if !ok {
			c = &inode{disk: slices.Clone(n.disk)}
			if r != nil {
				c.disk = torn(r, n.disk, n.data)
			}
			c.data = slices.Clone(c.disk)
			fresh[n] = c
		}
		files[name] = c
	}
	m.files = files
	m.durable = map[string]*inode{}
	for name, n := range files {
		m.durable[name] = n
	}
	m.dirs = map[string]bool{}
	for d := range m.dirsDisk {
		m.dirs[d] = true
	}
	m.locks = map[string]int{}
	m.faults = nil
}

// torn returns what a disk may hold after a power cut: what was synced,
// overwritten by a random prefix of what was written since.
func torn(r *rand.Rand, disk, data []byte) []byte {
	first := 0 // the first byte that differs
	for first < len(disk) && first < len(data) && disk[first] == data[first] {
		first++
	}
	if first == len(data) && len(disk) <= len(data) {
		return slices.Clone(disk)
	}
	keep := first + r.IntN(len(data)-first+1)
	out := slices.Clone(data[:keep])
	if keep < len(disk) {
		out = append(out, disk[keep:]...)
	}
	return out
}

// check counts an operation, and returns the error it must fail with, if
// any. m.mu is held.
func (m *MemFS) check(op Op, change bool) error {
	m.counts[op]++
	if m.crashIn > 0 {
		if m.crashIn--; m.crashIn == 0 {
			// The program dies now; what the disk keeps is settled when
			// the next one starts (see settleLocked).
			m.gen++
			m.pending, m.pendingRNG = true, m.crashRNG
			return ErrCrashed
		}
	}
	if change && m.readOnly {
		return syscall.EROFS
	}
	for i, f := range m.faults {
		if f.op != op {
			continue
		}
		if f.after > 0 {
			f.after--
			continue
		}
		m.faults = slices.Delete(m.faults, i, i+1)
		return f.err
	}
	return nil
}

func clean(name string) string { return path.Clean("/" + name) }

func (m *MemFS) parentExists(name string) bool { return m.dirs[path.Dir(name)] }

func (m *MemFS) Create(name string) (File, error) { return m.create(anyGen, name) }

func (m *MemFS) create(gen int, name string) (File, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.start(gen, OpCreate, true); err != nil {
		return nil, err
	}
	if !m.parentExists(name) {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrNotExist}
	}
	n := &inode{}
	m.files[name] = n
	return &memFile{m: m, n: n, gen: m.gen, name: name}, nil
}

func (m *MemFS) Open(name string) (File, error) { return m.open(anyGen, name, false) }

func (m *MemFS) OpenReadWrite(name string) (File, error) { return m.open(anyGen, name, true) }

func (m *MemFS) open(gen int, name string, write bool) (File, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.enter(gen); err != nil {
		return nil, err
	}
	n, ok := m.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if write && m.readOnly {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EROFS}
	}
	return &memFile{m: m, n: n, gen: m.gen, name: name, readOnly: !write}, nil
}

func (m *MemFS) Remove(name string) error { return m.remove(anyGen, name) }

func (m *MemFS) remove(gen int, name string) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.start(gen, OpRemove, true); err != nil {
		return err
	}
	if _, ok := m.files[name]; ok {
		delete(m.files, name)
		return nil
	}
	if m.dirs[name] {
		for f := range m.files {
			if strings.HasPrefix(f, name+"/") {
				return &fs.PathError{Op: "remove", Path: name, Err: syscall.ENOTEMPTY}
			}
		}
		delete(m.dirs, name)
		return nil
	}
	return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
}

func (m *MemFS) RemoveAll(name string) error { return m.removeAll(anyGen, name) }

func (m *MemFS) removeAll(gen int, name string) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.start(gen, OpRemove, true); err != nil {
		return err
	}
	for f := range m.files {
		if f == name || strings.HasPrefix(f, name+"/") {
			delete(m.files, f)
		}
	}
	for d := range m.dirs {
		if d == name || strings.HasPrefix(d, name+"/") {
			delete(m.dirs, d)
		}
	}
	return nil
}

func (m *MemFS) Rename(oldname, newname string) error { return m.rename(anyGen, oldname, newname) }

func (m *MemFS) rename(gen int, oldname, newname string) error {
	oldname, newname = clean(oldname), clean(newname)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.start(gen, OpRename, true); err != nil {
		return err
	}
	n, ok := m.files[oldname]
	if !ok {
		return &fs.PathError{Op: "rename", Path: oldname, Err: fs.ErrNotExist}
	}
	if !m.parentExists(newname) {
		return &fs.PathError{Op: "rename", Path: newname, Err: fs.ErrNotExist}
	}
	delete(m.files, oldname)
	m.files[newname] = n
	return nil
}

func (m *MemFS) MkdirAll(name string) error { return m.mkdirAll(anyGen, name) }

func (m *MemFS) mkdirAll(gen int, name string) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.start(gen, OpMkdir, true); err != nil {
		return err
	}
	for d := name; !m.dirs[d]; d = path.Dir(d) {
		m.dirs[d] = true
	}
	return nil
}

func (m *MemFS) ReadDir(name string) ([]string, error) { return m.readDir(anyGen, name) }

func (m *MemFS) readDir(gen int, name string) ([]string, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.enter(gen); err != nil {
		return nil, err
	}
	if !m.dirs[name] {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	seen := map[string]bool{}
	for f := range m.files {
		if path.Dir(f) == name {
			seen[path.Base(f)] = true
		}
	}
	for d := range m.dirs {
		if d != name && path.Dir(d) == name {
			seen[path.Base(d)] = true
		}
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// SyncDir makes the directory's entries durable: its files (as they are
// named now; their content still needs File.Sync) and its subdirectories.
func (m *MemFS) SyncDir(name string) error { return m.syncDir(anyGen, name) }

func (m *MemFS) syncDir(gen int, name string) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.start(gen, OpSyncDir, false); err != nil {
		return err
	}
	if !m.dirs[name] {
		return &fs.PathError{Op: "syncdir", Path: name, Err: fs.ErrNotExist}
	}
	for f := range m.durable {
		if path.Dir(f) == name {
			if _, ok := m.files[f]; !ok {
				delete(m.durable, f)
			}
		}
	}
	for f, n := range m.files {
		if path.Dir(f) == name {
			m.durable[f] = n
		}
	}
	for d := range m.dirsDisk {
		if d != name && path.Dir(d) == name && !m.dirs[d] {
			delete(m.dirsDisk, d)
		}
	}
	for d := range m.dirs {
		if path.Dir(d) == name {
			m.dirsDisk[d] = true
		}
	}
	return nil
}

func (m *MemFS) Lock(dir string, shared bool) (io.Closer, error) { return m.lock(anyGen, dir, shared) }

func (m *MemFS) lock(gen int, dir string, shared bool) (io.Closer, error) {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.enter(gen); err != nil {
		return nil, err
	}
	if !m.dirs[dir] {
		return nil, &fs.PathError{Op: "lock", Path: dir, Err: fs.ErrNotExist}
	}
	held := m.locks[dir]
	if held < 0 || held > 0 && !shared {
		return nil, ErrLocked
	}
	if shared {
		m.locks[dir]++
	} else {
		m.locks[dir] = -1
	}
	return &memLock{m: m, name: dir, gen: m.gen, shared: shared}, nil
}

type memLock struct {
	m      *MemFS
	name   string
	gen    int
	shared bool
	once   sync.Once
}

func (l *memLock) Close() error {
	l.once.Do(func() {
		l.m.mu.Lock()
		if l.gen == l.m.gen {
			if l.shared && l.m.locks[l.name] > 1 {
				l.m.locks[l.name]--
			} else {
				delete(l.m.locks, l.name)
			}
		}
		l.m.mu.Unlock()
	})
	return nil
}

type memFile struct {
	m        *MemFS
	n        *inode
	gen      int
	name     string
	closed   bool
	maps     bool // this handle mapped the file
	readOnly bool // opened for reading only
}

// ErrCrashed is returned by handles opened before a Crash.
var ErrCrashed = errors.New("vfs: the power failed since this file was opened")

// live checks the handle. m.mu is held.
func (f *memFile) live() error {
	switch {
	case f.closed:
		return fs.ErrClosed
	case f.gen != f.m.gen:
		return ErrCrashed
	}
	return nil
}

// writable checks a handle that is to change the file. m.mu is held.
func (f *memFile) writable(op string) error {
	if err := f.live(); err != nil {
		return err
	}
	if f.readOnly {
		return &fs.PathError{Op: op, Path: f.name, Err: syscall.EBADF}
	}
	return nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.live(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil // as os.File
	}
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.writable("write"); err != nil {
		return 0, err
	}
	if err := f.m.check(OpWrite, true); err != nil {
		return 0, err
	}
	if end := off + int64(len(p)); end > int64(len(f.n.data)) {
		if f.n.mapped {
			return 0, errors.New("vfs: growing a mapped file")
		}
		if err := f.m.grow(end - int64(len(f.n.data))); err != nil {
			return 0, err
		}
		f.n.data = append(f.n.data, make([]byte, end-int64(len(f.n.data)))...)
	}
	f.n.touch(int(off), int(off)+len(p))
	return copy(f.n.data[off:], p), nil
}

func (f *memFile) Sync() error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.live(); err != nil {
		return err
	}
	if err := f.m.check(OpSync, f.n.changed()); err != nil {
		return err
	}
	f.n.sync()
	return nil
}

// SyncMapped copies [off, off+n) of the page cache to the disk, reading
// nothing else, so appends past it may go on meanwhile; the disk takes the
// file's size, as fdatasync makes it durable.
func (f *memFile) SyncMapped(off, n int) error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.live(); err != nil {
		return err
	}
	if off < 0 || n < 0 || off+n > len(f.n.data) {
		return errors.New("vfs: SyncMapped outside the file")
	}
	dirty := len(f.n.disk) < off+n || !slices.Equal(f.n.disk[off:off+n], f.n.data[off:off+n])
	if err := f.m.check(OpSync, dirty); err != nil {
		return err
	}
	// Like fdatasync, it makes the file's size durable too: what lies
	// past the disk's old end, outside the range, reads as zeros.
	if len(f.n.disk) < len(f.n.data) {
		f.n.disk = append(f.n.disk, make([]byte, len(f.n.data)-len(f.n.disk))...)
	}
	f.n.disk = f.n.disk[:len(f.n.data):len(f.n.data)]
	copy(f.n.disk[off:off+n], f.n.data[off:off+n])
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.writable("truncate"); err != nil {
		return err
	}
	if err := f.m.check(OpTruncate, true); err != nil {
		return err
	}
	return f.resize(size)
}

func (f *memFile) resize(size int64) error {
	if f.n.mapped && size != int64(len(f.n.data)) {
		return errors.New("vfs: resizing a mapped file")
	}
	if err := f.m.grow(size - int64(len(f.n.data))); err != nil {
		return err
	}
	f.n.touch(min(int(size), len(f.n.data)), max(int(size), len(f.n.data)))
	if size <= int64(len(f.n.data)) {
		f.n.data = f.n.data[:size:size]
		return nil
	}
	grown := make([]byte, size)
	copy(grown, f.n.data)
	f.n.data = grown
	return nil
}

func (f *memFile) Allocate(size int64) error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.writable("allocate"); err != nil {
		return err
	}
	if err := f.m.check(OpAllocate, true); err != nil {
		return err
	}
	if size <= int64(len(f.n.data)) {
		return nil
	}
	return f.resize(size)
}

func (f *memFile) Size() (int64, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.live(); err != nil {
		return 0, err
	}
	return int64(len(f.n.data)), nil
}

// Map returns the file's page cache itself: writes to it are the file's.
// A handle opened before a crash keeps writing to a copy no one reads.
func (f *memFile) Map(size int) ([]byte, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.writable("mmap"); err != nil {
		return nil, err
	}
	if size > len(f.n.data) {
		return nil, errors.New("vfs: mapping past the end of the file")
	}
	if f.n.mapped {
		return nil, errors.New("vfs: file mapped already")
	}
	f.n.mapped, f.maps = true, true
	return f.n.data[:size:size], nil
}

func (f *memFile) Close() error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if f.closed {
		return fs.ErrClosed
	}
	f.closed = true
	if f.maps { // unmapped: what was written through it is dirty
		f.n.mapped = false
		f.n.touch(0, len(f.n.data))
	}
	return nil
}

// memProc is a MemFS as one run of a program sees it: dead after a crash.
type memProc struct {
	m   *MemFS
	gen int
}

func (p *memProc) Create(name string) (File, error) {
	return p.m.create(p.gen, name)
}

func (p *memProc) Open(name string) (File, error) {
	return p.m.open(p.gen, name, false)
}

func (p *memProc) OpenReadWrite(name string) (File, error) {
	return p.m.open(p.gen, name, true)
}

func (p *memProc) Remove(name string) error {
	return p.m.remove(p.gen, name)
}

func (p *memProc) RemoveAll(name string) error {
	return p.m.removeAll(p.gen, name)
}

func (p *memProc) Rename(oldname, newname string) error {
	return p.m.rename(p.gen, oldname, newname)
}

func (p *memProc) MkdirAll(name string) error {
	return p.m.mkdirAll(p.gen, name)
}

func (p *memProc) ReadDir(name string) ([]string, error) {
	return p.m.readDir(p.gen, name)
}

func (p *memProc) SyncDir(name string) error {
	return p.m.syncDir(p.gen, name)
}

func (p *memProc) Lock(dir string, shared bool) (io.Closer, error) {
	return p.m.lock(p.gen, dir, shared)
}
