//go:build unix

package vfs

import (
	"io"
	"io/fs"
	"math/rand/v2"
	"path"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestConformance runs what the store relies on against both file
// systems: the in-memory one must behave as the real one does.
func TestConformance(t *testing.T) {
	for name, fsys := range map[string]func(t *testing.T) (FS, string){
		"os":  func(t *testing.T) (FS, string) { return OS{}, t.TempDir() },
		"mem": func(t *testing.T) (FS, string) { m := NewMemFS(); require.NoError(t, m.MkdirAll("/d")); return m, "/d" },
	} {
		t.Run(name, func(t *testing.T) {
			fsys, dir := fsys(t)
			name := path.Join(dir, "a", "f")
			_, err := fsys.Create(name)
			require.ErrorIs(t, err, fs.ErrNotExist, "no parent directory")
			require.NoError(t, fsys.MkdirAll(path.Join(dir, "a")))

			f, err := fsys.Create(name)
			require.NoError(t, err)
			_, err = f.WriteAt([]byte("hello"), 0)
			require.NoError(t, err)
			require.NoError(t, f.Allocate(8192))
			size, err := f.Size()
			require.NoError(t, err)
			require.EqualValues(t, 8192, size, "Allocate extends")
			mem, err := f.Map(8192)
			require.NoError(t, err)
			require.Equal(t, "hello", string(mem[:5]), "the mapping shows the file")
			copy(mem[5:], " world")
			require.NoError(t, f.SyncMapped(5, 6))
			require.NoError(t, f.Sync())
			got := make([]byte, 11)
			_, err = f.ReadAt(got, 0)
			require.NoError(t, err)
			require.Equal(t, "hello world", string(got), "writes to the mapping are the file's")
			n, err := f.ReadAt(nil, 1<<20)
			require.NoError(t, err, "an empty read is no error, even past the end")
			require.Zero(t, n)
			_, err = f.ReadAt(got, 8190)
			require.ErrorIs(t, err, io.EOF)
			require.NoError(t, f.Close())

			require.NoError(t, fsys.Rename(name, name+"2"))
			_, err = fsys.Open(name)
			require.ErrorIs(t, err, fs.ErrNotExist)
			names, err := fsys.ReadDir(path.Join(dir, "a"))
			require.NoError(t, err)
			require.Equal(t, []string{"f2"}, names)
			require.NoError(t, fsys.SyncDir(path.Join(dir, "a")))

			// Files opened to read cannot be written; to read and write can.
			r, err := fsys.Open(name + "2")
			require.NoError(t, err)
			_, err = r.WriteAt([]byte("x"), 0)
			require.Error(t, err, "opened for reading only")
			require.NoError(t, r.Close())
			w, err := fsys.OpenReadWrite(name + "2")
			require.NoError(t, err)
			_, err = w.WriteAt([]byte("H"), 0)
			require.NoError(t, err)
			require.NoError(t, w.Close())

			// Locks are on the directory: exclusive, or shared among readers.
			l, err := fsys.Lock(dir, false)
			require.NoError(t, err)
			_, err = fsys.Lock(dir, false)
			require.ErrorIs(t, err, ErrLocked, "a second holder, even in this process")
			_, err = fsys.Lock(dir, true)
			require.ErrorIs(t, err, ErrLocked, "a reader while a writer holds it")
			require.NoError(t, l.Close())
			l, err = fsys.Lock(dir, true)
			require.NoError(t, err, "released by Close")
			l2, err := fsys.Lock(dir, true)
			require.NoError(t, err, "readers share")
			_, err = fsys.Lock(dir, false)
			require.ErrorIs(t, err, ErrLocked, "a writer while readers hold it")
			require.NoError(t, l.Close())
			require.NoError(t, l2.Close())
			l, err = fsys.Lock(dir, false)
			require.NoError(t, err, "every reader gone")
			require.NoError(t, l.Close())

			// A read-only view reads and refuses every change.
			ro := ReadOnly(fsys)
			got2, err := ro.Open(name + "2")
			require.NoError(t, err)
			require.NoError(t, got2.Close())
			_, err = ro.OpenReadWrite(name + "2")
			require.ErrorIs(t, err, ErrReadOnly)
			require.ErrorIs(t, err, syscall.EROFS)
			_, err = ro.Create(name + "3")
			require.ErrorIs(t, err, ErrReadOnly)
			require.ErrorIs(t, ro.Remove(name+"2"), ErrReadOnly)
			require.ErrorIs(t, ro.MkdirAll(path.Join(dir, "b")), ErrReadOnly)

			require.NoError(t, fsys.RemoveAll(path.Join(dir, "a")))
			require.NoError(t, fsys.RemoveAll(path.Join(dir, "a")), "a missing directory is no error")
			_, err = fsys.ReadDir(path.Join(dir, "a"))
			require.ErrorIs(t, err, fs.ErrNotExist)
		})
	}
}

// write creates name holding b, synced or not, and its directory synced
// or not.
func write(t *testing.T, m *MemFS, name, b string, sync, syncDir bool) File {
	t.Helper()
	f, err := m.Create(name)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte(b), 0)
	require.NoError(t, err)
	if sync {
		require.NoError(t, f.Sync())
	}
	if syncDir {
		require.NoError(t, m.SyncDir(path.Dir(name)))
	}
	return f
}

func read(t *testing.T, m *MemFS, name string) (string, error) {
	t.Helper()
	f, err := m.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	size, err := f.Size()
	require.NoError(t, err)
	b := make([]byte, size)
	_, err = f.ReadAt(b, 0)
	require.NoError(t, err)
	return string(b), nil
}

func TestCrashKeepsWhatWasSynced(t *testing.T) {
	m := NewMemFS()
	write(t, m, "/synced", "kept", true, false)
	f := write(t, m, "/unsynced", "lost", false, true)
	require.NoError(t, m.SyncDir("/"))
	write(t, m, "/undirsynced", "lost", true, false)
	_, err := f.WriteAt([]byte("more"), 4)
	require.NoError(t, err)
	mem, err := f.Map(8)
	require.NoError(t, err)
	copy(mem, "LOST")

	m.Crash()
	got, err := read(t, m, "/synced")
	require.NoError(t, err)
	require.Equal(t, "kept", got)
	got, err = read(t, m, "/unsynced")
	require.NoError(t, err)
	require.Empty(t, got, "created and named durably, its content never synced")
	_, err = read(t, m, "/undirsynced")
	require.ErrorIs(t, err, fs.ErrNotExist, "its directory was never synced")
	_, err = f.WriteAt([]byte("x"), 0)
	require.ErrorIs(t, err, ErrCrashed, "handles of before the crash are dead")
}

// TestSyncCopiesEveryChange: a sync makes the disk hold exactly what the
// file holds, whether it was written at scattered offsets, shrunk and grown
// again, or written through a mapping since closed (a sync copies only the
// bytes written since the last one, so each way of writing must count).
func TestSyncCopiesEveryChange(t *testing.T) {
	m := NewMemFS()
	f := write(t, m, "/f", "0123456789", true, true)
	g := write(t, m, "/g", "", true, true)
	require.NoError(t, m.SyncDir("/"))

	_, err := f.WriteAt([]byte("ab"), 2)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("xyz"), 12) // past the end: a hole of zeros
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Truncate(4))
	require.NoError(t, f.Truncate(6)) // the old bytes 4 and 5 are zeros now
	require.NoError(t, f.Sync())

	require.NoError(t, g.Allocate(8))
	require.NoError(t, g.Sync())
	mem, err := g.Map(8)
	require.NoError(t, err)
	copy(mem, "MM")
	require.NoError(t, g.Close())
	g2, err := m.Open("/g")
	require.NoError(t, err)
	require.NoError(t, g2.Sync()) // another handle: the mapping's writes count

	m.Crash()
	got, err := read(t, m, "/f")
	require.NoError(t, err)
	require.Equal(t, "01ab\x00\x00", got)
	got, err = read(t, m, "/g")
	require.NoError(t, err)
	require.Equal(t, "MM\x00\x00\x00\x00\x00\x00", got)
}

func TestSyncMappedMakesARangeDurable(t *testing.T) {
	m := NewMemFS()
	f := write(t, m, "/f", "", true, true)
	require.NoError(t, f.Allocate(16))
	mem, err := f.Map(16)
	require.NoError(t, err)
	copy(mem, "durable|volatile")
	require.NoError(t, f.SyncMapped(0, 8))
	m.Crash()
	got, err := read(t, m, "/f")
	require.NoError(t, err)
	require.Equal(t, "durable|\x00\x00\x00\x00\x00\x00\x00\x00", got, "the rest never reached the disk; the size did, as fdatasync makes it durable")
}

func TestRenameIsDurableWithItsDirectory(t *testing.T) {
	for _, syncDir := range []bool{false, true} {
		m := NewMemFS()
		write(t, m, "/MANIFEST", "old", true, true)
		write(t, m, "/MANIFEST.tmp", "new", true, false)
		require.NoError(t, m.Rename("/MANIFEST.tmp", "/MANIFEST"))
		if syncDir {
			require.NoError(t, m.SyncDir("/"))
		}
		m.Crash()
		got, err := read(t, m, "/MANIFEST")
		require.NoError(t, err)
		if syncDir {
			require.Equal(t, "new", got)
		} else {
			require.Equal(t, "old", got, "the rename never reached the disk")
		}
	}
}

// TestCrashTornKeepsAPrefix: a torn crash keeps what was synced and then
// some prefix of what was written since, never anything else.
func TestCrashTornKeepsAPrefix(t *testing.T) {
	seen := map[int]bool{}
	for seed := range uint64(200) {
		m := NewMemFS()
		f := write(t, m, "/f", "synced|", true, true)
		_, err := f.WriteAt([]byte("written since"), 7)
		require.NoError(t, err)
		m.CrashTorn(rand.New(rand.NewPCG(seed, 1)))
		got, err := read(t, m, "/f")
		require.NoError(t, err)
		require.True(t, len(got) >= 7 && "synced|written since"[:len(got)] == got, "%q", got)
		seen[len(got)] = true
	}
	require.Greater(t, len(seen), 5, "tears at many places")
}

func TestCrashAfterCutsAtTheNthOperation(t *testing.T) {
	m := NewMemFS()
	p := m.Process()
	m.CrashAfter(2, nil)
	f, err := p.Create("/a") // 1
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("x"), 0) // 2
	require.NoError(t, err)
	require.ErrorIs(t, f.Sync(), ErrCrashed) // 3: the power fails
	_, err = p.Create("/b")
	require.ErrorIs(t, err, ErrCrashed, "the process died with the power")
	_, err = m.Process().Create("/b")
	require.NoError(t, err, "the next run works")
}

func TestFaultsAndReadOnly(t *testing.T) {
	m := NewMemFS()
	f := write(t, m, "/f", "x", false, false)
	m.Fail(OpSync, 1, syscall.EIO)
	require.NoError(t, f.Sync())
	require.ErrorIs(t, f.Sync(), syscall.EIO, "the second sync fails")
	require.NoError(t, f.Sync(), "once")
	require.Equal(t, 3, m.Count(OpSync))

	m.Fail(OpAllocate, 0, syscall.ENOSPC)
	require.ErrorIs(t, f.Allocate(1<<20), syscall.ENOSPC)
	m.Fail(OpCreate, 0, syscall.EIO)
	_, err := m.Create("/g")
	require.ErrorIs(t, err, syscall.EIO)
	m.Fail(OpWrite, 0, syscall.EIO)
	m.ClearFaults()
	_, err = f.WriteAt([]byte("y"), 0)
	require.NoError(t, err, "cleared")

	m.SetReadOnly(true)
	_, err = f.WriteAt([]byte("y"), 0)
	require.ErrorIs(t, err, syscall.EROFS)
	_, err = m.Create("/g")
	require.ErrorIs(t, err, syscall.EROFS)
	got, err := read(t, m, "/f")
	require.NoError(t, err, "reads still work")
	require.Equal(t, "y", got)
	m.SetReadOnly(false)
	require.NoError(t, f.Sync())
}

func TestLocksDieWithTheirHolder(t *testing.T) {
	m := NewMemFS()
	_, err := m.Lock("/", false)
	require.NoError(t, err)
	_, err = m.Lock("/", false)
	require.ErrorIs(t, err, ErrLocked)
	m.Crash()
	_, err = m.Lock("/", false)
	require.NoError(t, err, "a crash releases every lock")
}

func TestMappingOutlivesSyncMapped(t *testing.T) {
	for name, fsys := range map[string]func(t *testing.T) (FS, string){
		"os":  func(t *testing.T) (FS, string) { return OS{}, t.TempDir() },
		"mem": func(t *testing.T) (FS, string) { return NewMemFS(), "/" },
	} {
		t.Run(name, func(t *testing.T) {
			fsys, dir := fsys(t)
			f, err := fsys.Create(path.Join(dir, "f"))
			require.NoError(t, err)
			defer f.Close()
			const size = 3 << 12
			require.NoError(t, f.Allocate(size))
			mem, err := f.Map(size)
			require.NoError(t, err)
			for i := range size * 5 / 6 {
				mem[i] = byte(i % 251)
			}
			// The OS drops the two pages this sync covers wholly from the
			// mapping; they must read and write as before.
			require.NoError(t, f.SyncMapped(100, size*5/6-100))
			for i := range size * 5 / 6 {
				require.Equal(t, byte(i%251), mem[i], "byte %d after the sync", i)
			}
			copy(mem[10:], "written again")
			copy(mem[size*5/6:], "and after")
			require.NoError(t, f.SyncMapped(0, size))
			got := make([]byte, size)
			_, err = f.ReadAt(got, 0)
			require.NoError(t, err)
			require.Equal(t, mem, got)
			require.Equal(t, "written again", string(got[10:23]))
		})
	}
}
