package shardlog

import (
	"maps"
	"syscall"
	"testing"

	"github.com/shardlog/shardlog/internal/seqnum"
	"github.com/shardlog/shardlog/internal/vfs"
	"github.com/stretchr/testify/require"
)

// leaseAt is a lease of shard n with a checkpoint at counter c.
func leaseAt(n, c uint64, counter int64) Lease {
	return Lease{
		Key: shardID(uint32(n)), Owner: "w", Counter: counter,
		Checkpoint: SequenceNumber{n: seqnum.Number{Stream: 1, Shard: uint32(n), Counter: c}},
	}
}

// checkpoints writes n checkpoints of shard 0 and returns the last lease.
func checkpoints(t *testing.T, st LeaseStore, table string, from Lease, n int) Lease {
	t.Helper()
	l := from
	for range n {
		next := l
		next.Counter++
		next.Checkpoint.n.Counter++
		require.NoError(t, st.Swap(bg, table, &l, next))
		l = next
	}
	return l
}

// TestLeasesSurviveAPowerCut: under SyncAlways every acknowledged lease
// write is there after a power cut, and compaction loses nothing.
func TestLeasesSurviveAPowerCut(t *testing.T) {
	fs := vfs.NewMemFS()
	a := durable(t, fs.Process(), NewManualClock(tStart))
	st := a.LeaseStore()
	first := leaseAt(0, 0, 0)
	require.NoError(t, st.Swap(bg, "t", nil, first))
	require.ErrorIs(t, st.Swap(bg, "t", nil, first), ErrLeaseConflict)
	last := checkpoints(t, st, "t", first, 20_000) // past the 1 MiB that compacts
	other := leaseAt(1, 5, 0)
	require.NoError(t, st.Swap(bg, "u", nil, other))
	fs.Crash()

	a2 := durable(t, fs.Process(), NewManualClock(tStart))
	got, err := a2.LeaseStore().Leases(bg, "t")
	require.NoError(t, err)
	require.Equal(t, []Lease{last}, got)
	got, err = a2.LeaseStore().Leases(bg, "u")
	require.NoError(t, err)
	require.Equal(t, []Lease{other}, got)
	size, err := fileSize(fs, "/data/LEASES")
	require.NoError(t, err)
	require.Less(t, size, int64(leaseCompact+4096), "compacted")
}

// TestLeaseWriteThatFailsIsUndone: a write whose sync fails returns an
// error and is undone; once the fault is gone writes go on, and nothing
// acknowledged is lost.
func TestLeaseWriteThatFailsIsUndone(t *testing.T) {
	fs := vfs.NewMemFS()
	a := durable(t, fs.Process(), NewManualClock(tStart))
	st := a.LeaseStore()
	l := leaseAt(0, 0, 0)
	require.NoError(t, st.Swap(bg, "t", nil, l))
	l = checkpoints(t, st, "t", l, 3)

	fs.Fail(vfs.OpSync, 0, syscall.EIO)
	next := l
	next.Counter++
	requireCode(t, st.Swap(bg, "t", &l, next), ErrInternalFailure)
	got, err := st.Leases(bg, "t")
	require.NoError(t, err)
	require.Equal(t, []Lease{l}, got, "undone")

	fs.ClearFaults()
	l = checkpoints(t, st, "t", l, 2)
	fs.Crash()
	a2 := durable(t, fs.Process(), NewManualClock(tStart))
	got, err = a2.LeaseStore().Leases(bg, "t")
	require.NoError(t, err)
	require.Equal(t, []Lease{l}, got)
}

// TestLeaseFileTornOrNewer: a frame a crash cut short is dropped; a file of
// a newer format is refused.
func TestLeaseFileTornOrNewer(t *testing.T) {
	fs := vfs.NewMemFS()
	a := durable(t, fs.Process(), NewManualClock(tStart))
	l := leaseAt(0, 0, 0)
	require.NoError(t, a.LeaseStore().Swap(bg, "t", nil, l))
	l = checkpoints(t, a.LeaseStore(), "t", l, 2)
	require.NoError(t, a.Close())

	f, err := fs.OpenReadWrite("/data/LEASES")
	require.NoError(t, err)
	size, err := f.Size()
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{200, 0, 0, 0, 1, 2, 3}, size) // a frame's start, and no more
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	a2 := durable(t, fs.Process(), NewManualClock(tStart))
	got, err := a2.LeaseStore().Leases(bg, "t")
	require.NoError(t, err)
	require.Equal(t, []Lease{l}, got)
	require.NoError(t, a2.Close())

	f, err = fs.OpenReadWrite("/data/LEASES")
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{9, 0, 0, 0}, 8) // version 9
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = reopen(t, fs)
	require.ErrorContains(t, err, "format version 9")
}

func fileSize(fs vfs.FS, name string) (int64, error) {
	f, err := fs.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return f.Size()
}

// FuzzLeaseFile opens whatever bytes LEASES holds: opening fails with an
// error or replays the good frames, never panics, and what it replays
// survives being written back and opened again.
func FuzzLeaseFile(f *testing.F) {
	fs := vfs.NewMemFS()
	d, err := openLeases(fs, "/LEASES", true, false)
	if err != nil {
		f.Fatal(err)
	}
	l := leaseAt(0, 3, 0)
	if err := d.Swap(bg, "t", nil, l); err != nil {
		f.Fatal(err)
	}
	next := l
	next.Counter, next.Parents = 1, []string{"shardId-000000000009"}
	if err := d.Swap(bg, "t", &l, next); err != nil {
		f.Fatal(err)
	}
	d.drop("x/")
	good, err := readFile(fs, "/LEASES")
	if err != nil {
		f.Fatal(err)
	}
	d.close()
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add([]byte(leaseMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		fs := vfs.NewMemFS()
		file, err := fs.Create("/LEASES")
		require.NoError(t, err)
		_, err = file.WriteAt(b, 0)
		require.NoError(t, err)
		require.NoError(t, file.Close())
		d, err := openLeases(fs, "/LEASES", true, false)
		if err != nil {
			return
		}
		want := maps.Clone(d.mem.tables)
		require.NoError(t, d.close())
		again, err := openLeases(fs, "/LEASES", true, false)
		require.NoError(t, err, "a file opened once opens again")
		require.Equal(t, want, again.mem.tables, "with the same leases")
		require.NoError(t, again.close())
	})
}
