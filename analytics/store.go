package analytics

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/shardlog/shardlog/internal/atomicfile"
)

// A Store keeps each job's latest snapshot: its open windows, watermark,
// results not yet emitted and how far it has read each shard, saved
// together so that a job restarted anywhere resumes exactly where the
// snapshot left it. Implementations must be safe for concurrent use.
type Store interface {
	// Load returns the job's snapshot and its version; version 0 and no
	// data when the job has none.
	Load(ctx context.Context, job string) (data []byte, version int64, err error)
	// Save replaces the job's snapshot with data as version, which must
	// be one more than the version stored: otherwise another instance of
	// the job saved meanwhile, and Save returns ErrSnapshotConflict.
	Save(ctx context.Context, job string, version int64, data []byte) error
}

// ErrSnapshotConflict is returned by Store.Save, and so by Job.Run, when
// another instance of the job has saved a snapshot since this one loaded
// or saved its own: two instances of one job ran at once.
var ErrSnapshotConflict = errors.New("analytics: another instance of the job saved a snapshot")

// MemoryStore returns a Store that keeps snapshots in memory: for tests,
// and jobs whose windows may start over when the process does.
func MemoryStore() Store { return &memoryStore{jobs: map[string]memorySnapshot{}} }

type memoryStore struct {
	mu   sync.Mutex
	jobs map[string]memorySnapshot // guarded by mu
}

type memorySnapshot struct {
	data    []byte
	version int64
}

func (m *memoryStore) Load(_ context.Context, job string) ([]byte, int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.jobs[job]
	return s.data, s.version, nil
}

func (m *memoryStore) Save(_ context.Context, job string, version int64, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.jobs[job].version != version-1 {
		return ErrSnapshotConflict
	}
	m.jobs[job] = memorySnapshot{data: append([]byte(nil), data...), version: version}
	return nil
}

// DirStore returns a Store that keeps each job's snapshot in the file
// <dir>/<job>.snapshot, replaced whole and synced at each save, so that
// it survives a crash or a power cut; a file damaged anyway is reported
// by Load, never taken for an empty state. dir is made if need be.
func DirStore(dir string) Store { return &dirStore{dir: dir} }

type dirStore struct {
	dir string
	mu  sync.Mutex // serializes this process's saves
}

// A snapshot file is the version (8 bytes, big-endian), the data, and a
// CRC-32C of both.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (d *dirStore) path(job string) string { return filepath.Join(d.dir, job+".snapshot") }

func (d *dirStore) Load(_ context.Context, job string) ([]byte, int64, error) {
	b, err := os.ReadFile(d.path(job))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if len(b) < 12 || crc32.Checksum(b[:len(b)-4], castagnoli) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		return nil, 0, fmt.Errorf("analytics: snapshot %s is damaged", d.path(job))
	}
	return b[8 : len(b)-4], int64(binary.BigEndian.Uint64(b)), nil
}

func (d *dirStore) Save(ctx context.Context, job string, version int64, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, stored, err := d.Load(ctx, job); err != nil {
		return err
	} else if stored != version-1 {
		return ErrSnapshotConflict
	}
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		return err
	}
	b := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint64(b, uint64(version))
	b = append(b, data...)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return atomicfile.Write(d.path(job), b, 0o644)
}
