package shardlog

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/shardlog/shardlog/internal/vfs"
)

// A durable account keeps its consumer groups' leases in LEASES (see
// FORMAT.md): a header, then one frame per change, each a length, a CRC-32C
// and a JSON body. Replaying the frames in order rebuilds the tables; a
// frame cut short by a crash ends the replay and is cut off. When the file
// holds four times what the tables need it is rewritten, one frame per
// lease, into LEASES.tmp, synced and renamed over LEASES.

const (
	leaseMagic   = "SLLEASES"
	leaseVersion = 1
	leaseHeader  = 12 // magic, version
	frameHeader  = 8  // length, CRC-32C of the body
	leaseCompact = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// leaseChange is a frame's body: a lease written into a table, or the
// tables of a deleted stream dropped.
type leaseChange struct {
	Table      string `json:"table,omitempty"`
	Lease      *Lease `json:"lease,omitempty"`
	DropPrefix string `json:"dropPrefix,omitempty"`
}

// durableLeases is the account's LeaseStore in a durable account: the
// tables in memory, every change appended to LEASES first. Under
// SyncAlways a write returns once it is synced; writers that wait together
// share one sync.
type durableLeases struct {
	mem    memLeases // mem.mu guards the fields below, and is taken after syncMu
	fs     vfs.FS
	name   string
	always bool
	f      vfs.File
	size   int64  // bytes in the file
	frames uint64 // frames appended since opening
	need   int64  // about what a rewrite would take
	broken bool   // a write or a sync failed: rewrite before the next write
	ro     bool   // read-only (WithReadOnly): every change fails

	syncMu sync.Mutex    // one sync or rewrite at a time
	synced atomic.Uint64 // frames known to be durable
}

// openLeases replays name, creating it if missing (unless read-only).
func openLeases(fs vfs.FS, name string, always, readOnly bool) (*durableLeases, error) {
	d := &durableLeases{mem: memLeases{tables: map[string]map[string]Lease{}}, fs: fs, name: name, always: always, ro: readOnly}
	b, err := readFile(fs, name)
	switch {
	case errors.Is(err, errNotExist) && readOnly:
		return d, nil
	case errors.Is(err, errNotExist):
		return d, d.rewriteLocked()
	case err != nil:
		return nil, fmt.Errorf("shardlog: reading %s: %w", name, err)
	}
	if len(b) < leaseHeader || string(b[:8]) != leaseMagic {
		return nil, fmt.Errorf("shardlog: %s is not a lease file", name)
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v > leaseVersion {
		return nil, fmt.Errorf("shardlog: %s has format version %d; this shardlog reads up to %d", name, v, leaseVersion)
	}
	end := leaseHeader
	for end+frameHeader <= len(b) {
		n := int(binary.LittleEndian.Uint32(b[end:]))
		body := b[end+frameHeader:]
		if n > len(body) || crc32.Checksum(body[:n], castagnoli) != binary.LittleEndian.Uint32(b[end+4:]) {
			break
		}
		var c leaseChange
		if json.Unmarshal(body[:n], &c) != nil {
			break
		}
		d.apply(c)
		end += frameHeader + n
	}
	if readOnly {
		return d, nil
	}
	if end < len(b) && !bytes.Equal(b[end:], make([]byte, len(b)-end)) {
		// A crash cut the last frame short; a rewrite drops it.
		return d, d.rewriteLocked()
	}
	if d.f, err = fs.OpenReadWrite(name); err != nil {
		return nil, err
	}
	d.size = int64(end)
	d.need = d.snapshotSize()
	return d, nil
}

// apply replays a change into the tables.
func (d *durableLeases) apply(c leaseChange) {
	if c.DropPrefix != "" {
		d.mem.dropLocked(c.DropPrefix)
		return
	}
	if c.Lease == nil {
		return
	}
	t := d.mem.tables[c.Table]
	if t == nil {
		t = map[string]Lease{}
		d.mem.tables[c.Table] = t
	}
	t[c.Lease.Key] = *c.Lease
}

func (d *durableLeases) Leases(ctx context.Context, table string) ([]Lease, error) {
	return d.mem.Leases(ctx, table)
}

func (d *durableLeases) watch(table string, f func()) (stop func()) { return d.mem.watch(table, f) }

func (d *durableLeases) Swap(ctx context.Context, table string, old *Lease, lease Lease) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mem.mu.Lock()
	if d.broken {
		d.mem.mu.Unlock()
		if err := d.repair(); err != nil {
			return err
		}
		d.mem.mu.Lock()
	}
	prev, existed := d.mem.tables[table][lease.Key]
	if err := d.mem.checkLocked(table, old, lease); err != nil {
		d.mem.mu.Unlock()
		return err
	}
	n, err := d.appendLocked(leaseChange{Table: table, Lease: &lease})
	if err != nil {
		d.mem.mu.Unlock()
		return storageErr(err)
	}
	tell := d.mem.watchersLocked(table, prev, existed, lease)
	d.mem.applyLocked(table, lease)
	compact := d.size > max(leaseCompact, 4*d.need)
	d.mem.mu.Unlock()
	defer func() {
		for _, f := range tell {
			f()
		}
	}()
	if compact {
		return d.repair()
	}
	if !d.always {
		return nil
	}
	if err := d.syncTo(n); err != nil {
		// Not durable, maybe not written: undo it, unless it changed since,
		// and rewrite the file before the next change.
		d.mem.mu.Lock()
		if cur := d.mem.tables[table][lease.Key]; cur.Owner == lease.Owner && cur.Counter == lease.Counter {
			if existed {
				d.mem.tables[table][lease.Key] = prev
			} else {
				delete(d.mem.tables[table], lease.Key)
			}
		}
		d.broken = true
		d.mem.mu.Unlock()
		return storageErr(err)
	}
	return nil
}

// appendLocked writes a frame at the end of the file and returns its
// number. A failed write leaves the file to be rewritten.
func (d *durableLeases) appendLocked(c leaseChange) (uint64, error) {
	if d.ro {
		return 0, vfs.ErrReadOnly
	}
	body, err := json.Marshal(c)
	if err != nil {
		return 0, err
	}
	frame := make([]byte, frameHeader+len(body))
	binary.LittleEndian.PutUint32(frame, uint32(len(body)))
	binary.LittleEndian.PutUint32(frame[4:], crc32.Checksum(body, castagnoli))
	copy(frame[frameHeader:], body)
	if _, err := d.f.WriteAt(frame, d.size); err != nil {
		d.broken = true
		return 0, err
	}
	d.size += int64(len(frame))
	d.frames++
	if c.Lease != nil && c.Lease.Counter == 0 {
		d.need += int64(len(frame)) // a new lease
	}
	return d.frames, nil
}

// syncTo returns once frame n is durable, syncing unless a sync that
// started after it was written covers it.
func (d *durableLeases) syncTo(n uint64) error {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	if d.synced.Load() >= n {
		return nil
	}
	d.mem.mu.Lock()
	f, target := d.f, d.frames
	d.mem.mu.Unlock()
	if err := f.Sync(); err != nil {
		return err
	}
	d.synced.Store(target)
	return nil
}

// repair rewrites the file from the tables.
func (d *durableLeases) repair() error {
	d.syncMu.Lock()
	defer d.syncMu.Unlock()
	d.mem.mu.Lock()
	defer d.mem.mu.Unlock()
	if err := d.rewriteLocked(); err != nil {
		return storageErr(err)
	}
	return nil
}

// rewriteLocked writes every lease to a new file and puts it in place of
// the old one. syncMu and mem.mu are held (or the store is being opened).
func (d *durableLeases) rewriteLocked() error {
	tmp := d.name + ".tmp"
	f, err := d.fs.Create(tmp)
	if err != nil {
		return err
	}
	old := d.f
	d.f, d.size = f, 0
	hdr := make([]byte, leaseHeader)
	copy(hdr, leaseMagic)
	binary.LittleEndian.PutUint32(hdr[8:], leaseVersion)
	_, err = f.WriteAt(hdr, 0)
	d.size = leaseHeader
	for table, t := range d.mem.tables {
		for _, l := range t {
			if err == nil {
				_, err = d.appendLocked(leaseChange{Table: table, Lease: &l})
			}
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = d.fs.Rename(tmp, d.name)
	}
	if err == nil {
		err = d.fs.SyncDir(dirOf(d.name))
	}
	if err != nil {
		f.Close()
		d.f, d.broken = old, true
		return err
	}
	if old != nil {
		old.Close()
	}
	d.broken = false
	d.need = d.size
	d.synced.Store(d.frames)
	return nil
}

// snapshotSize is about what a rewrite of the tables would take.
func (d *durableLeases) snapshotSize() int64 {
	n := int64(leaseHeader)
	for table, t := range d.mem.tables {
		for _, l := range t {
			body, _ := json.Marshal(leaseChange{Table: table, Lease: &l})
			n += int64(frameHeader + len(body))
		}
	}
	return n
}

// drop forgets the tables of a deleted stream.
func (d *durableLeases) drop(prefix string) {
	d.mem.mu.Lock()
	defer d.mem.mu.Unlock()
	if !d.mem.hasPrefixLocked(prefix) {
		return
	}
	if _, err := d.appendLocked(leaseChange{DropPrefix: prefix}); err == nil {
		d.mem.dropLocked(prefix)
	}
}

// sync makes every change durable (SyncEvery's tick, and Close).
func (d *durableLeases) sync() error {
	if d.ro {
		return nil
	}
	d.mem.mu.Lock()
	n := d.frames
	d.mem.mu.Unlock()
	return d.syncTo(n)
}

func (d *durableLeases) close() error {
	if d.ro {
		return nil
	}
	err := d.sync()
	d.mem.mu.Lock()
	defer d.mem.mu.Unlock()
	if cerr := d.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func dirOf(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return "."
}
