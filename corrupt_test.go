package shardlog

import (
	"encoding/binary"
	"fmt"
	"path"
	"strings"
	"testing"

	"github.com/shardlog/shardlog/internal/manifest"
	"github.com/shardlog/shardlog/internal/segfile"
	"github.com/shardlog/shardlog/internal/vfs"
	"github.com/stretchr/testify/require"
)

// closedStore writes 400 records of about 500 bytes to one shard (about
// four 64 KiB segment files), closes the account, and returns the file
// system, the records in order, and the shard's directory.
func closedStore(t *testing.T) (*vfs.MemFS, []string, string) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	a := durable(t, fs.Process(), clk, WithSegmentSize(64<<10))
	require.NoError(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1})))
	s := mustStream(t, a, "s")
	var want []string
	for i := 0; i < 400; i++ {
		d := fmt.Sprintf("record %03d %s", i, strings.Repeat("x", 480))
		_, err := s.Put(bg, PutInput{PartitionKey: "k", Data: []byte(d)})
		require.NoError(t, err)
		want = append(want, d)
	}
	dir := s.shardAt(0).files.dir
	require.NoError(t, a.Close())
	return fs, want, dir
}

func reopen(t *testing.T, fs *vfs.MemFS) (*Account, error) {
	t.Helper()
	a, err := NewAccount(withFS(fs.Process()), WithDir("/data"), WithClock(NewManualClock(tStart)), WithoutLimits(), WithAccountID("123456789012"))
	if err == nil {
		t.Cleanup(func() { a.Close() })
	}
	return a, err
}

// readShard0 reads the shard, returning the records up to the first error.
func readShard0(t *testing.T, a *Account) ([]string, error) {
	var got []string
	for r, err := range mustStream(t, a, "s").Records(bg, "shardId-000000000000", StartingPosition{Type: TrimHorizon}) {
		if err != nil {
			return got, err
		}
		got = append(got, string(r.Data))
	}
	return got, nil
}

func segFile(dir string, n int) string { return path.Join(dir, fmt.Sprintf("%010d.seg", n)) }

func flip(t *testing.T, fs *vfs.MemFS, name string, off int64) {
	f, err := fs.Open(name)
	require.NoError(t, err)
	defer f.Close()
	b := make([]byte, 1)
	_, err = f.ReadAt(b, off)
	require.NoError(t, err)
	b[0] ^= 0x10
	_, err = f.WriteAt(b, off)
	require.NoError(t, err)
}

// TestCorruptionIsReportedNeverReturned: flipped bits, truncated and
// deleted files in a closed store are found (when opening or when read
// back) and reported; no record is ever returned wrong, and nothing panics.
func TestCorruptionIsReportedNeverReturned(t *testing.T) {
	for _, tc := range []struct {
		name      string
		damage    func(t *testing.T, fs *vfs.MemFS, dir string)
		atOpen    bool // reported when opening (otherwise when read back)
		readable  int  // records returned before the damage (-1: all of them)
		readError bool // reading reaches the damage and fails
	}{
		{"bit flipped in records", func(t *testing.T, fs *vfs.MemFS, dir string) { flip(t, fs, segFile(dir, 2), 9000) }, false, 0, true},
		{"bit flipped in a header", func(t *testing.T, fs *vfs.MemFS, dir string) { flip(t, fs, segFile(dir, 2), 20) }, true, 0, false},
		{"file truncated", func(t *testing.T, fs *vfs.MemFS, dir string) {
			f, err := fs.Open(segFile(dir, 2))
			require.NoError(t, err)
			require.NoError(t, f.Truncate(20000))
			require.NoError(t, f.Close())
		}, true, 0, false},
		{"file in the middle deleted", func(t *testing.T, fs *vfs.MemFS, dir string) { require.NoError(t, fs.Remove(segFile(dir, 2))) }, true, 0, false},
		{"first file deleted", func(t *testing.T, fs *vfs.MemFS, dir string) { require.NoError(t, fs.Remove(segFile(dir, 0))) }, true, -2, false},
		{"bit flipped in the index", func(t *testing.T, fs *vfs.MemFS, dir string) { flip(t, fs, path.Join(dir, "index"), 100) }, false, -1, false},
		{"index deleted", func(t *testing.T, fs *vfs.MemFS, dir string) { require.NoError(t, fs.Remove(path.Join(dir, "index"))) }, false, -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, want, dir := closedStore(t)
			tc.damage(t, fs, dir)
			a, err := reopen(t, fs)
			require.NoError(t, err, "damage to records does not keep the account from opening")
			if tc.atOpen {
				require.NotEmpty(t, a.Recovery().Corrupt)
			} else {
				require.Empty(t, a.Recovery().Corrupt)
			}
			got, err := readShard0(t, a)
			if tc.readError {
				requireCode(t, err, ErrInternalFailure)
				require.NotEmpty(t, a.Recovery().Corrupt, "found when read back")
			} else {
				require.NoError(t, err)
			}
			switch tc.readable {
			case -1:
				require.Equal(t, want, got)
			case -2: // the records after the damage
				require.Equal(t, want[len(want)-len(got):], got)
				require.Less(t, len(got), len(want))
			default:
				require.Equal(t, want[:len(got)], got, "a prefix, unchanged")
				require.Less(t, len(got), len(want))
			}
		})
	}
}

// TestOpeningRefusesWhatItCannotTrust: a directory held by another account,
// a missing or garbled manifest, or a newer format fail with a clear error.
func TestOpeningRefusesWhatItCannotTrust(t *testing.T) {
	fs, _, dir := closedStore(t)
	a, err := reopen(t, fs)
	require.NoError(t, err)
	_, err = reopen(t, fs)
	require.ErrorContains(t, err, "is open in another account")
	require.NoError(t, a.Close())
	b, err := reopen(t, fs)
	require.NoError(t, err, "after Close it opens")
	require.NoError(t, b.Close())

	damage := func(f func([]byte) []byte) {
		raw, err := fs.Open("/data/MANIFEST")
		require.NoError(t, err)
		size, _ := raw.Size()
		buf := make([]byte, size)
		_, err = raw.ReadAt(buf, 0)
		require.NoError(t, err)
		require.NoError(t, raw.Close())
		out := f(buf)
		w, err := fs.Create("/data/MANIFEST")
		require.NoError(t, err)
		_, err = w.WriteAt(out, 0)
		require.NoError(t, err)
		require.NoError(t, w.Close())
	}
	var orig []byte
	damage(func(b []byte) []byte { orig = append([]byte(nil), b...); return b })

	damage(func(b []byte) []byte { b[len(b)-5] ^= 1; return b })
	_, err = reopen(t, fs)
	require.ErrorIs(t, err, manifest.ErrCorrupt)
	require.ErrorContains(t, err, "MANIFEST")

	damage(func([]byte) []byte { return orig[:len(orig)/2] })
	_, err = reopen(t, fs)
	require.ErrorIs(t, err, manifest.ErrCorrupt)

	damage(func([]byte) []byte {
		b := append([]byte(nil), orig...)
		binary.LittleEndian.PutUint32(b[8:], manifest.Version+1)
		return b
	})
	_, err = reopen(t, fs)
	require.ErrorIs(t, err, manifest.ErrNewer)

	damage(func([]byte) []byte { return orig })
	require.NoError(t, fs.Remove("/data/MANIFEST"))
	_, err = reopen(t, fs)
	require.ErrorContains(t, err, "no MANIFEST")

	// A segment file of a newer format.
	fs2, _, dir2 := closedStore(t)
	f, err := fs2.Open(segFile(dir2, 1))
	require.NoError(t, err)
	h := make([]byte, segfile.HeaderSize)
	_, err = f.ReadAt(h, 0)
	require.NoError(t, err)
	binary.LittleEndian.PutUint32(h[8:], segfile.Version+1)
	binary.LittleEndian.PutUint32(h[60:], segfile.Checksum(h[:60]))
	_, err = f.WriteAt(h, 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = reopen(t, fs2)
	require.ErrorIs(t, err, segfile.ErrNewer)
	_ = dir
}
