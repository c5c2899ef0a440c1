package shardlog

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shardlog/shardlog/internal/segfile"
	"github.com/shardlog/shardlog/internal/vfs"
	"github.com/stretchr/testify/require"
)

// putN puts n records of about 500 bytes, named "prefix 000", "prefix
// 001", …, and returns their names.
func putN(t *testing.T, s *Stream, prefix string, n int) []string {
	t.Helper()
	var out []string
	for i := range n {
		name := fmt.Sprintf("%s %03d", prefix, i)
		_, err := s.Put(bg, PutInput{PartitionKey: "k", Data: []byte(name + strings.Repeat(".", 480))})
		require.NoError(t, err)
		out = append(out, name)
	}
	return out
}

// shard0 returns the names of shard 0's records (see putN).
func shard0(t *testing.T, a *Account) []string {
	t.Helper()
	got, err := readShard0(t, a)
	require.NoError(t, err)
	for i, d := range got {
		got[i], _, _ = strings.Cut(d, ".")
	}
	return got
}

// reopenAt opens the account in fs again, its clock at clk's time.
func reopenAt(t *testing.T, fs *vfs.MemFS, clk *ManualClock) *Account {
	t.Helper()
	return durable(t, fs.Process(), NewManualClock(clk.Now()))
}

// TestTrimCutShortByAFaultThenAPowerCut: retention deletes a shard's
// oldest files; a write error stops recording one deletion (and closes the
// index with the records before it not yet synced), and a power cut
// follows later writes. Opening finds files below a gap of deleted ones:
// trimmed records, not lost ones. It reports no corruption and returns
// exactly the records that had not expired.
func TestTrimCutShortByAFaultThenAPowerCut(t *testing.T) {
	for fail := range 4 { // which deletion fails: the first, …, the last
		t.Run(fmt.Sprint(fail), func(t *testing.T) {
			fs := vfs.NewMemFS()
			clk := NewManualClock(tStart)
			a := durable(t, fs.Process(), clk, WithSegmentSize(64<<10))
			require.NoError(t, a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1}))
			s := mustStream(t, a, "s")
			putN(t, s, "old", 400) // about four files
			clk.Advance(23 * time.Hour)
			want := putN(t, s, "live", 20)
			clk.Advance(2 * time.Hour) // the old records expire, the live ones do not

			fs.Fail(vfs.OpWrite, fail, syscall.EIO)
			require.Equal(t, want, shard0(t, a)) // reading trims what expired
			fs.ClearFaults()
			want = append(want, putN(t, s, "after", 300)...) // new files: the directory is synced
			fs.Crash()

			a2 := reopenAt(t, fs, clk)
			require.Empty(t, a2.Recovery().Corrupt, "a trimmed file is not a lost one")
			require.Equal(t, want, shard0(t, a2), "every live record, and no expired one")
		})
	}
}

// TestRecoveryNeverReusesAFileNumber: opening deletes a segment file that a
// crash left without its header. A file written after that gets a new
// number, so the next opening does not take it for the deleted one.
func TestRecoveryNeverReusesAFileNumber(t *testing.T) {
	fs, want, dir := closedStore(t) // files 0 to 3
	// What a power cut leaves of a file made ahead of need: a name and
	// zeroed blocks, no header.
	f, err := fs.Create(segFile(dir, 4))
	require.NoError(t, err)
	require.NoError(t, f.Allocate(64<<10))
	require.NoError(t, f.Close())

	a, err := reopen(t, fs)
	require.NoError(t, err)
	putN(t, mustStream(t, a, "s"), "after", 400) // files from 5 on
	require.NoError(t, a.Close())

	a2, err := reopen(t, fs)
	require.NoError(t, err)
	require.Empty(t, a2.Recovery().Corrupt)
	got := shard0(t, a2)
	require.Len(t, got, 800)
	require.Equal(t, want, got[:400], "the records before (closedStore's have no dot)")
	require.Equal(t, "after 000", got[400])
	require.Equal(t, "after 399", got[799])
	names, err := fs.ReadDir(dir)
	require.NoError(t, err)
	require.NotContains(t, names, "0000000004.seg", "no file takes the deleted one's number")
}

// TestDeletedFileAPowerCutKeptStaysDeleted: a file whose deletion the index
// recorded, but whose name a power cut kept, is deleted when opening, and
// its records are not read.
func TestDeletedFileAPowerCutKeptStaysDeleted(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	a := durable(t, fs.Process(), clk, WithSegmentSize(64<<10))
	require.NoError(t, a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1}))
	s := mustStream(t, a, "s")
	putN(t, s, "old", 400)
	dir := s.shardAt(0).files.dir
	before, err := fs.ReadDir(dir)
	require.NoError(t, err)
	clk.Advance(23 * time.Hour)
	want := putN(t, s, "live", 20)
	clk.Advance(2 * time.Hour)
	require.Equal(t, want, shard0(t, a)) // reading trims: the old files go
	// Sync the index (its records of the deletions) but not the directory.
	idx, err := fs.Open(dir + "/index")
	require.NoError(t, err)
	require.NoError(t, idx.Sync())
	require.NoError(t, idx.Close())
	fs.Crash()
	after, err := fs.ReadDir(dir)
	require.NoError(t, err)
	require.Equal(t, before, after[:len(before)], "the power cut kept the deleted files' names")

	a2 := reopenAt(t, fs, clk)
	require.Empty(t, a2.Recovery().Corrupt)
	require.Equal(t, want, shard0(t, a2), "no expired record comes back")
	names, err := fs.ReadDir(dir)
	require.NoError(t, err)
	require.NotContains(t, names, "0000000000.seg")
}

// TestEvictedFileAPowerCutKeptStaysDeleted: the same for files a size
// bound deleted, whose records the clock would not expire again: at most
// the records of the file the bound was dropping from come back.
func TestEvictedFileAPowerCutKeptStaysDeleted(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	bound := WithSizeBound(SizeBound{Records: 150})
	a := durable(t, fs.Process(), clk, WithSegmentSize(64<<10), bound)
	require.NoError(t, a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1}))
	s := mustStream(t, a, "s")
	all := putN(t, s, "r", 600) // about five files; the oldest go
	live := shard0(t, a)
	require.LessOrEqual(t, len(live), 150)
	dir := s.shardAt(0).files.dir
	idx, err := fs.Open(dir + "/index")
	require.NoError(t, err)
	require.NoError(t, idx.Sync())
	require.NoError(t, idx.Close())
	fs.Crash()

	a2 := durable(t, fs.Process(), clk, bound)
	require.Empty(t, a2.Recovery().Corrupt)
	got := shard0(t, a2)
	require.Equal(t, all[len(all)-len(got):], got, "a run of the newest records")
	require.LessOrEqual(t, len(got), len(live)+130, "only the records of one file (64 KiB) come back")
}

// TestTornIndexIsCutBeforeAppending: a crash that tore the index's last
// record leaves bytes no reader can get past; opening cuts them, so that
// the records appended afterwards are read by the next opening.
func TestTornIndexIsCutBeforeAppending(t *testing.T) {
	fs, want, dir := closedStore(t)
	f, err := fs.Open(dir + "/index")
	require.NoError(t, err)
	size, err := f.Size()
	require.NoError(t, err)
	_, err = f.WriteAt([]byte{200, 1, 0, 0, 9, 9, 9}, size) // the start of a record, torn
	require.NoError(t, err)
	require.NoError(t, f.Close())

	a, err := reopen(t, fs)
	require.NoError(t, err)
	putN(t, mustStream(t, a, "s"), "after", 400)
	require.NoError(t, a.Close())

	b, err := readFile(fs, dir+"/index")
	require.NoError(t, err)
	indexed := map[uint32]bool{}
	end := segfile.ReadIndex(b, func(r segfile.IndexRecord) { indexed[r.File] = true })
	require.Equal(t, len(b), end, "every record in the index is readable")
	require.True(t, indexed[4], "files written after the cut are indexed")
	a2, err := reopen(t, fs)
	require.NoError(t, err)
	got := shard0(t, a2)
	require.Equal(t, want, got[:400])
	require.Len(t, got, 800)
}

// TestIndexStaysSmall: a shard that deletes files all the time (here under
// a size bound) keeps an index about the size its files need, not one that
// grows with every record ever written; what it compacted opens, after a
// clean close and after a power cut, to the records there were.
func TestIndexStaysSmall(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	bound := WithSizeBound(SizeBound{Records: 2000})
	a := durable(t, fs.Process(), clk, WithSegmentSize(64<<10), bound)
	require.NoError(t, a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1}))
	s := mustStream(t, a, "s")
	dir := s.shardAt(0).files.dir
	data := make([]byte, 100)
	for i := range 200_000 { // 12 bytes of index each: 2.4 MB without compaction
		_, err := s.Put(bg, PutInput{PartitionKey: "k", Data: fmt.Appendf(data[:0], "%06d", i)})
		require.NoError(t, err)
	}
	size := func() int {
		b, err := readFile(fs, dir+"/index")
		require.NoError(t, err)
		return len(b)
	}
	require.Less(t, size(), int(compactIndexMin)+2000*20*4, "the index holds the living files, and at most 1 MiB besides")
	live := readAll(t, s)
	require.LessOrEqual(t, len(live), 2000)
	require.Equal(t, "199999", live[len(live)-1])

	check := func(a *Account) {
		t.Helper()
		require.Empty(t, a.Recovery().Corrupt)
		got := readAll(t, mustStream(t, a, "s"))
		require.Equal(t, live, got[len(got)-len(live):], "the newest records")
		for i := 1; i < len(got); i++ {
			require.Equal(t, fmt.Sprintf("%06d", mustAtoi(t, got[i-1])+1), got[i], "no gap")
		}
	}
	fs.Crash()
	a2 := durable(t, fs.Process(), clk, bound)
	check(a2)
	require.NoError(t, a2.Close())
	check(durable(t, fs.Process(), clk, bound))
}

func readAll(t *testing.T, s *Stream) []string {
	t.Helper()
	var out []string
	for r, err := range s.Records(bg, "shardId-000000000000", StartingPosition{Type: TrimHorizon}) {
		require.NoError(t, err)
		out = append(out, string(r.Data[:6]))
	}
	return out
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// TestSyncNoneIndexesBehindTheKernel: under SyncNone a sealed file is not
// synced by the writer, so it is not indexed at once (an index record must
// not promise what a power cut may take); Close syncs and indexes the
// files still waiting, and the next opening needs no scan of them. With no
// wait, files are indexed in the background as others are sealed.
func TestSyncNoneIndexesBehindTheKernel(t *testing.T) {
	indexed := func(fs *vfs.MemFS, dir string) map[uint32]bool {
		out := map[uint32]bool{}
		b, err := readFile(fs, dir+"/index")
		if err != nil {
			return out
		}
		segfile.ReadIndex(b, func(r segfile.IndexRecord) {
			if r.File != segfile.Dropped {
				out[r.File] = true
			}
		})
		return out
	}
	for _, wait := range []time.Duration{time.Hour, 0} {
		t.Run(wait.String(), func(t *testing.T) {
			defer func(d time.Duration) { lazyDelay = d }(lazyDelay)
			lazyDelay = wait
			fs := vfs.NewMemFS()
			clk := NewManualClock(tStart)
			a := durable(t, fs.Process(), clk, WithSegmentSize(64<<10), WithSync(SyncNone))
			require.NoError(t, a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1}))
			s := mustStream(t, a, "s")
			want := putN(t, s, "r", 600) // about five files
			sh := s.shardAt(0)
			dir := sh.files.dir
			settled := func() map[uint32]bool {
				sh.mu.Lock()
				defer sh.mu.Unlock()
				sh.files.indexing.Wait()
				return indexed(fs, dir)
			}
			if wait > 0 {
				require.Empty(t, settled(), "nothing indexed before its sync")
			} else {
				// A seal starts the work unless the shard's last batch is
				// still being synced; the next seal takes the rest.
				for i := 0; len(settled()) == 0 && i < 50; i++ {
					want = append(want, putN(t, s, fmt.Sprint("more", i), 130)...)
				}
				require.NotEmpty(t, settled(), "indexed as later files are sealed")
			}
			require.NoError(t, a.Close())
			idx := indexed(fs, dir)
			for n := range uint32(4) {
				require.True(t, idx[n], "file %d indexed by Close", n)
			}
			a2 := reopenAt(t, fs, clk)
			require.Equal(t, want, shard0(t, a2))
		})
	}
}

// TestExpiredFilesLeaveAnIdleShard: under SyncAlways a deleted file waits
// for the next sync; on a shard nobody writes to, ApplyRetention (and so
// the janitor) runs that sync, so expired files do not stay on disk.
func TestExpiredFilesLeaveAnIdleShard(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	a := durable(t, fs.Process(), clk, WithSegmentSize(64<<10))
	require.NoError(t, a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1}))
	s := mustStream(t, a, "s")
	putN(t, s, "old", 400) // about four files
	dir := s.shardAt(0).files.dir
	clk.Advance(25 * time.Hour)
	require.NoError(t, a.ApplyRetention(bg))
	names, err := fs.ReadDir(dir)
	require.NoError(t, err)
	for n := range 3 {
		require.NotContains(t, names, fmt.Sprintf("%010d.seg", n), "expired, and deleted")
	}
	require.Empty(t, shard0(t, a))
}
