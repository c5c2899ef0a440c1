package shardlog

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/shardlog/shardlog/internal/manifest"
	"github.com/shardlog/shardlog/internal/vfs"
)

// A durable account keeps its state in a directory (see WithDir and
// FORMAT.md):
//
//	MANIFEST                     every stream's metadata, replaced atomically
//	LEASES                       consumer groups' leases (leasejournal.go)
//	streams/<incarnation>/       a stream's shards' files (streamdir.go):
//	    7-0000000000.seg ...     shard 7's records, one file per slab
//	    7-index                  the records of its every finished file

var errNotExist = fs.ErrNotExist

// ErrReadOnly is the cause of the failure of every change to an account
// opened WithReadOnly: errors.Is(err, ErrReadOnly) holds for it. (A file
// system remounted read-only under a running account makes changes fail
// too, with syscall.EROFS as their cause; reads go on.)
var ErrReadOnly = vfs.ErrReadOnly

// withFS replaces the operating system's file system, for crash tests.
func withFS(f vfs.FS) Option {
	return optionFunc(func(cfg *config) error {
		cfg.fs = f
		return nil
	})
}

// RecoveryReport says what opening a durable account found.
type RecoveryReport struct {
	Streams   int          // streams restored
	Shards    int          // shards restored
	Files     int          // segment files restored
	Records   int64        // records in them
	TornTails []TornTail   // files whose last records were cut short
	Corrupt   []Corruption // damage found, at opening or reading back
	// Orphans are directories of streams, and files or directories of
	// shards, that the manifest no longer names, left by a deletion that a crash interrupted: opening
	// deleted them (unless the account is read-only).
	Orphans  []string
	Duration time.Duration // how long opening took
}

// TornTail is a segment file that ended in a partial or corrupt record,
// as a crash leaves it: it was cut at the last good record.
type TornTail struct {
	Stream  string
	ShardID string
	File    string
	Offset  int64  // where the good records end
	Records uint64 // good records in the file
}

// Corruption is damage to stored records: a file that is missing, garbled
// or does not match its checksum. Damaged records are never returned:
// reading them fails with a [*DamagedRecordsError].
type Corruption struct {
	Stream  string
	ShardID string
	File    string // the file, or the shard's directory
	Err     string // what was found
	// Records is how many records are damaged, First and Last their
	// sequence numbers, if opening could tell (0 when the damage is found as
	// they are read, or costs no record, as a garbled header may).
	Records     uint64
	First, Last SequenceNumber
}

// Recovery returns what opening the account found: empty for an account
// in memory. Corruption found later, when records are read back, is added.
func (a *Account) Recovery() RecoveryReport {
	if a.store == nil {
		return RecoveryReport{}
	}
	a.store.repMu.Lock()
	defer a.store.repMu.Unlock()
	r := a.store.report
	r.TornTails = append([]TornTail(nil), r.TornTails...)
	r.Corrupt = append([]Corruption(nil), r.Corrupt...)
	r.Orphans = append([]string(nil), r.Orphans...)
	return r
}

// store is a durable account's directory.
type store struct {
	fs          vfs.FS
	dir         string
	lock        io.Closer
	policy      SyncPolicy
	segmentSize int
	clock       Clock
	log         *slog.Logger
	busy        chan struct{}  // a slot per goroutine of background
	wg          sync.WaitGroup // goroutines of background

	mu      sync.Mutex // orders manifest writes; guards streams and lastInc
	streams map[uint32]*manifest.Stream
	lastInc uint32
	key     [32]byte
	region  string
	account string

	repMu  sync.Mutex // guards report and noted
	report RecoveryReport
	noted  map[string]bool // files whose damage reading found, reported once

	readOnly     bool  // never write (WithReadOnly)
	manifestSize int64 // of the last manifest written: the reserve fits two
}

// background runs fn on a goroutine of its own, unless as many as there
// are processors run already; it reports whether it did. Work that would
// hold up a writer (making the next segment file, unmapping one) goes
// there; Close waits for it.
func (st *store) background(fn func()) bool {
	select {
	case st.busy <- struct{}{}:
	default:
		return false
	}
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		defer func() { <-st.busy }()
		fn()
	}()
	return true
}

func (st *store) path(parts ...string) string {
	return path.Join(append([]string{st.dir}, parts...)...)
}

func (st *store) shardDir(inc, index uint32) string {
	return st.path("streams", strconv.FormatUint(uint64(inc), 10), strconv.FormatUint(uint64(index), 10))
}

func (st *store) streamDir(inc uint32) string {
	return st.path("streams", strconv.FormatUint(uint64(inc), 10))
}

// noteCorrupt records damage found when reading records back, once per
// file.
func (st *store) noteCorrupt(sf *shardFiles, file string, err error) {
	st.note(Corruption{Stream: sf.stream, ShardID: shardID(sf.hdr.Shard), File: file, Err: err.Error()})
}

// noteAltered records a finished record of file n that its checksums passed
// and its data key refused: altered by someone who knew to fix them.
func (sf *shardFiles) noteAltered(n uint32, seq SequenceNumber, err error) {
	sf.st.note(Corruption{Stream: sf.stream, ShardID: shardID(sf.hdr.Shard), File: sf.fileName(n), Err: err.Error(),
		Records: 1, First: seq, Last: seq})
}

// note records damage found when reading records back, once per file.
func (st *store) note(c Corruption) {
	st.repMu.Lock()
	defer st.repMu.Unlock()
	if st.noted[c.File] {
		return
	}
	if st.noted == nil {
		st.noted = map[string]bool{}
	}
	st.noted[c.File] = true
	st.log.Error("shardlog: corrupt segment file", "file", c.File, "err", c.Err)
	st.report.Corrupt = append(st.report.Corrupt, c)
}

// openStore locks the directory and reads its manifest, if any.
func openStore(cfg *config) (*store, *manifest.Manifest, error) {
	st := &store{
		fs: cfg.fs, dir: cfg.dir, policy: cfg.sync, segmentSize: cfg.segmentSize, clock: cfg.clock, log: cfg.log,
		busy:    make(chan struct{}, runtime.GOMAXPROCS(0)),
		streams: map[uint32]*manifest.Stream{}, region: cfg.region, account: cfg.accountID,
	}
	if cfg.readOnly {
		st.fs, st.readOnly = vfs.ReadOnly(st.fs), true
		if _, err := st.fs.ReadDir(st.dir); errors.Is(err, errNotExist) {
			return nil, nil, fmt.Errorf("shardlog: %s holds no account to open read-only", st.dir)
		}
	} else if err := st.fs.MkdirAll(st.dir); err != nil {
		return nil, nil, fmt.Errorf("shardlog: %w", err)
	} else if err := st.fs.SyncDir(path.Dir(st.dir)); err != nil {
		// Its name must outlive a power cut, as what it holds does.
		return nil, nil, fmt.Errorf("shardlog: %w", err)
	}
	lock, err := st.fs.Lock(st.dir, st.readOnly)
	if errors.Is(err, vfs.ErrLocked) {
		return nil, nil, fmt.Errorf("shardlog: %s is open in another account (this process or another)", st.dir)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("shardlog: locking %s: %w", st.dir, err)
	}
	st.lock = lock
	m, err := st.readManifest()
	if err != nil {
		lock.Close()
		return nil, nil, err
	}
	return st, m, nil
}

// readManifest returns the directory's manifest, or nil for a new account.
func (st *store) readManifest() (*manifest.Manifest, error) {
	b, err := readFile(st.fs, st.path("MANIFEST"))
	if errors.Is(err, errNotExist) && st.readOnly {
		return nil, fmt.Errorf("shardlog: %s holds no account to open read-only", st.dir)
	}
	if errors.Is(err, errNotExist) {
		names, _ := st.fs.ReadDir(st.dir)
		for _, n := range names {
			if n == "streams" {
				return nil, fmt.Errorf("shardlog: %s holds streams but no MANIFEST: refusing to open a damaged account", st.dir)
			}
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("shardlog: reading %s: %w", st.path("MANIFEST"), err)
	}
	m, err := manifest.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("shardlog: %s: %w", st.path("MANIFEST"), err)
	}
	if m.Region != st.region || m.AccountID != st.account {
		return nil, fmt.Errorf("shardlog: %s holds account %s in %s, not %s in %s", st.dir, m.AccountID, m.Region, st.account, st.region)
	}
	if len(m.TokenKey) != len(st.key) {
		return nil, fmt.Errorf("shardlog: %s: %w: no iterator key", st.path("MANIFEST"), manifest.ErrCorrupt)
	}
	return m, nil
}

// writeLocked replaces the manifest: a temporary file, synced, renamed over
// the manifest, and the directory synced. st.mu is held.
func (st *store) writeLocked() error {
	m := &manifest.Manifest{Region: st.region, AccountID: st.account, TokenKey: st.key[:], LastIncarnation: st.lastInc}
	for _, s := range st.streams {
		m.Streams = append(m.Streams, *s)
	}
	b, err := manifest.Encode(m)
	if err != nil {
		return err
	}
	st.manifestSize = int64(len(b))
	tmp := st.path("MANIFEST.tmp")
	f, err := st.fs.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(b, 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = st.fs.Rename(tmp, st.path("MANIFEST"))
	}
	if err == nil {
		err = st.fs.SyncDir(st.dir)
	}
	return err
}

// The reserve is a file of preallocated blocks that only a change which
// frees space may give up: on a full disk, DeleteStream must still be able
// to write the manifest that says the stream is gone, or nothing could
// ever be freed through the API. It is made when the account opens and
// again after a deletion, sized for two manifests (at least 1 MiB).
const reserveName = "RESERVE"

// keepReserve makes the reserve, or grows it to fit the manifest; on
// failure (a full disk) it tries again next time.
func (st *store) keepReserve() {
	if st.readOnly {
		return
	}
	name := st.path(reserveName)
	f, err := st.fs.OpenReadWrite(name)
	if errors.Is(err, errNotExist) {
		f, err = st.fs.Create(name)
	}
	if err != nil {
		st.log.Warn("shardlog: could not keep the space reserve", "file", name, "err", err)
		return
	}
	defer f.Close()
	want := max(1<<20, 2*st.manifestSize)
	if size, err := f.Size(); err == nil && size >= want {
		return
	}
	if err := f.Allocate(want); err != nil {
		st.log.Warn("shardlog: could not keep the space reserve", "file", name, "err", err)
	}
}

// persistFreeing is persist for a change that frees space (a deletion):
// if the manifest cannot be written, the reserve is given up for it.
func (st *store) persistFreeing(inc uint32, m *manifest.Stream) error {
	err := st.persist(inc, m)
	if err == nil {
		return nil
	}
	if rerr := st.fs.Remove(st.path(reserveName)); rerr != nil {
		return err // no reserve left
	}
	// A journaling file system reuses freed blocks once the removal is
	// committed: syncing the directory commits it.
	_ = st.fs.SyncDir(st.dir)
	st.log.Warn("shardlog: gave up the space reserve to record a deletion", "err", err)
	return st.persist(inc, m)
}

// persist records a stream's new metadata (nil: the stream is gone) and
// rewrites the manifest. On failure the manifest, on disk and in st, stays
// as it was, and the caller must undo its change.
func (st *store) persist(inc uint32, m *manifest.Stream) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	old, had := st.streams[inc]
	if m == nil {
		delete(st.streams, inc)
	} else {
		st.streams[inc] = m
	}
	lastInc := st.lastInc
	st.lastInc = max(st.lastInc, inc)
	if err := st.writeLocked(); err != nil {
		if had {
			st.streams[inc] = old
		} else {
			delete(st.streams, inc)
		}
		st.lastInc = lastInc
		return storageErr(err)
	}
	return nil
}

// storageErr is the error a caller gets when the storage fails:
// InternalFailure, which AWS clients retry.
func storageErr(err error) *Error {
	e := newError(ErrInternalFailure, "Internal Service Failure: %v", err)
	if errors.Is(err, ErrReadOnly) {
		e.Message, e.Retryable = "The account is open read-only.", false
	}
	e.err = err
	return e
}

// storageError is storageErr for a shard's records.
func (sh *shard) storageError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return storageErr(err)
}

// internalFailure words a storage failure for a PutBatch entry, as
// PutRecords does.
func internalFailure(error) (code, message string) {
	return "InternalFailure", "Internal Service Failure"
}

// makeStreamDir creates a new stream's directory, where its shards keep
// their files, and makes its name durable.
func (st *store) makeStreamDir(inc uint32) error {
	if err := st.fs.MkdirAll(st.streamDir(inc)); err != nil {
		return storageErr(err)
	}
	for _, d := range []string{st.path("streams"), st.dir} {
		if err := st.fs.SyncDir(d); err != nil {
			return storageErr(err)
		}
	}
	return nil
}
