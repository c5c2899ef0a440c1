package shardlog

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// oneShard opens a durable account in fs with 64 KiB segment files and
// creates stream "s" of one shard in it.
func oneShard(t *testing.T, fs *vfs.MemFS, clk *ManualClock, opts ...Option) (*Account, *Stream) {
	t.Helper()
	a := durable(t, fs.Process(), clk, append([]Option{WithSegmentSize(64 << 10)}, opts...)...)
	require.NoError(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1})))
	return a, mustStream(t, a, "s")
}

// indexedFiles returns the files the index in dir has a record of, and
// whether all of it is readable (no torn record).
func indexedFiles(t *testing.T, fs *vfs.MemFS, dir string) (map[uint32]bool, bool) {
	t.Helper()
	files := map[uint32]bool{}
	b, err := readFile(fs, indexFile(dir))
	if errors.Is(err, errNotExist) {
		return files, true
	}
	require.NoError(t, err)
	end := segfile.ReadIndex(b, func(r segfile.IndexRecord) {
		if r.File != segfile.Dropped {
			files[r.File] = true
		}
	})
	return files, end == len(b)
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
			a, s := oneShard(t, fs, clk)
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

// TestFileMadeAheadIsTakenAgain: what a power cut leaves of a file made
// ahead of need (a name and zeroed blocks, no header) goes, and its number
// is the next file's, so that numbers run on without a gap that the next
// opening would take for a lost file.
func TestFileMadeAheadIsTakenAgain(t *testing.T) {
	fs, want, dir := closedStore(t)
	made := len(fileRecords(t, fs, dir)) // the next number
	f, err := fs.Create(segFile(dir, made))
	require.NoError(t, err)
	require.NoError(t, f.Allocate(64<<10))
	require.NoError(t, f.Close())

	a, err := reopen(t, fs)
	require.NoError(t, err)
	require.Empty(t, a.Recovery().TornTails, "nothing was in it")
	putN(t, mustStream(t, a, "s"), "after", 400) // files from made on
	require.NoError(t, a.Close())

	a2, err := reopen(t, fs)
	require.NoError(t, err)
	require.Empty(t, a2.Recovery().Corrupt)
	got := shard0(t, a2)
	require.Len(t, got, 800)
	require.Equal(t, want, got[:400], "the records before (closedStore's have no dot)")
	require.Equal(t, "after 000", got[400])
	require.Equal(t, "after 399", got[799])
	b, err := readFile(fs, segFile(dir, made))
	require.NoError(t, err)
	h, err := segfile.ParseHeader(b)
	require.NoError(t, err)
	require.Equal(t, uint64(400), h.First, "the file made ahead's number holds the records after")
}

// TestDeletedFileAPowerCutKeptStaysDeleted: a file whose deletion the index
// recorded, but whose name a power cut kept, is deleted when opening, and
// its records are not read.
func TestDeletedFileAPowerCutKeptStaysDeleted(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	a, s := oneShard(t, fs, clk)
	putN(t, s, "old", 400)
	dir := s.shardAt(0).files.path("")
	before, err := shardEntries(fs, dir)
	require.NoError(t, err)
	clk.Advance(23 * time.Hour)
	want := putN(t, s, "live", 20)
	clk.Advance(2 * time.Hour)
	require.Equal(t, want, shard0(t, a)) // reading trims: the old files go
	// Sync the index (its records of the deletions) but not the directory.
	idx, err := fs.Open(indexFile(dir))
	require.NoError(t, err)
	require.NoError(t, idx.Sync())
	require.NoError(t, idx.Close())
	fs.Crash()
	after, err := shardEntries(fs, dir)
	require.NoError(t, err)
	// The segment files but the last (before ends with it and "index"): it
	// may be the spare made in the background, whose name need not have
	// reached the disk.
	require.Subset(t, after, before[:len(before)-2], "the power cut kept the deleted files' names")

	a2 := reopenAt(t, fs, clk)
	require.Empty(t, a2.Recovery().Corrupt)
	require.Equal(t, want, shard0(t, a2), "no expired record comes back")
	names, err := shardEntries(fs, dir)
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
	a, s := oneShard(t, fs, clk, bound)
	all := putN(t, s, "r", 600) // about five files; the oldest go
	live := shard0(t, a)
	require.LessOrEqual(t, len(live), 150)
	dir := s.shardAt(0).files.path("")
	idx, err := fs.Open(indexFile(dir))
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
	f, err := fs.OpenReadWrite(indexFile(dir))
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

	indexed, whole := indexedFiles(t, fs, dir)
	require.True(t, whole, "every record in the index is readable")
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
// clean close and after a power cut, to the records there were. A
// compaction that fails (its rename, here) leaves the index as it was,
// and a later one does the work.
func TestIndexStaysSmall(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	bound := WithSizeBound(SizeBound{Records: 2000})
	_, s := oneShard(t, fs, clk, bound)
	dir := s.shardAt(0).files.path("")
	renames := fs.Count(vfs.OpRename)
	fs.Fail(vfs.OpRename, 0, errEIO) // the first compaction
	data := make([]byte, 100)
	for i := range 200_000 { // 12 bytes of index each: 2.4 MB without compaction
		_, err := s.Put(bg, PutInput{PartitionKey: "k", Data: fmt.Appendf(data[:0], "%06d", i)})
		require.NoError(t, err)
	}
	require.GreaterOrEqual(t, fs.Count(vfs.OpRename)-renames, 2, "a compaction failed, and another followed")
	names, err := shardEntries(fs, dir)
	require.NoError(t, err)
	require.NotContains(t, names, "index.tmp", "a failed compaction leaves nothing behind")
	index, err := readFile(fs, indexFile(dir))
	require.NoError(t, err)
	require.Less(t, len(index), int(compactIndexMin)+2000*segfile.EntrySize*4, "the index holds the living files, and at most 1 MiB besides")
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
	for _, wait := range []time.Duration{time.Hour, 0} {
		t.Run(wait.String(), func(t *testing.T) {
			defer func(d time.Duration) { lazyDelay = d }(lazyDelay)
			lazyDelay = wait
			fs := vfs.NewMemFS()
			clk := NewManualClock(tStart)
			a, s := oneShard(t, fs, clk, WithSync(SyncNone))
			want := putN(t, s, "r", 600) // about five files
			sh := s.shardAt(0)
			dir := sh.files.path("")
			settled := func() map[uint32]bool {
				sh.mu.Lock()
				defer sh.mu.Unlock()
				sh.files.indexing.Wait()
				idx, _ := indexedFiles(t, fs, dir)
				return idx
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
			idx, _ := indexedFiles(t, fs, dir)
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
	a, s := oneShard(t, fs, clk)
	putN(t, s, "old", 400) // about four files
	dir := s.shardAt(0).files.path("")
	clk.Advance(25 * time.Hour)
	require.NoError(t, a.ApplyRetention(bg))
	names, err := shardEntries(fs, dir)
	require.NoError(t, err)
	for n := range 3 {
		require.NotContains(t, names, fmt.Sprintf("%010d.seg", n), "expired, and deleted")
	}
	require.Empty(t, shard0(t, a))
}

// gatedFS holds the first write to a segment file, once armed, until the
// test opens the gate: a sync caught halfway.
type gatedFS struct {
	vfs.FS
	armed   atomic.Bool
	reached chan struct{} // closed when a write is held
	gate    chan struct{} // closed by the test to let it go on
}

func (g *gatedFS) Create(name string) (vfs.File, error) {
	f, err := g.FS.Create(name)
	return gatedFile{f, g, name}, err
}

func (g *gatedFS) Open(name string) (vfs.File, error) {
	f, err := g.FS.Open(name)
	return gatedFile{f, g, name}, err
}

func (g *gatedFS) OpenReadWrite(name string) (vfs.File, error) {
	f, err := g.FS.OpenReadWrite(name)
	return gatedFile{f, g, name}, err
}

type gatedFile struct {
	vfs.File
	g    *gatedFS
	name string
}

func (f gatedFile) WriteAt(p []byte, off int64) (int, error) {
	if strings.HasSuffix(f.name, ".seg") && f.g.armed.CompareAndSwap(true, false) {
		close(f.g.reached)
		<-f.g.gate
	}
	return f.File.WriteAt(p, off)
}

// TestReadersLoadAFileNotYetWritten: under SyncAlways a sealed file is
// written when the next sync runs. A reader that needs it before (its
// first records were acknowledged earlier, and its copy in memory made way
// for newer files) gets it from memory, not from a file that does not
// hold it yet.
func TestReadersLoadAFileNotYetWritten(t *testing.T) {
	mem := vfs.NewMemFS()
	g := &gatedFS{FS: mem.Process(), reached: make(chan struct{}), gate: make(chan struct{})}
	a := durable(t, g, NewManualClock(tStart), WithSegmentSize(64<<10))
	require.NoError(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1})))
	s := mustStream(t, a, "s")
	want := putN(t, s, "acked", 40) // about 20 KB of file 0, written and synced

	// One small record ends file 0, then big ones fill a file each: file 0
	// is sealed with a tail its file does not hold, and leaves memory.
	batch := []PutInput{{PartitionKey: "k", Data: []byte("tail")}}
	for range 5 {
		batch = append(batch, PutInput{PartitionKey: "k", Data: make([]byte, 50<<10)})
	}
	g.armed.Store(true)
	var open sync.Once
	release := func() { open.Do(func() { close(g.gate) }) }
	defer release() // before Close, which waits for the sync, if a check fails
	done := make(chan error, 1)
	go func() {
		res, err := s.PutBatch(bg, batch)
		if err == nil && res.FailedRecordCount > 0 {
			err = fmt.Errorf("%d records failed", res.FailedRecordCount)
		}
		done <- err
	}()
	<-g.reached // the batch's sync is about to write file 0's tail
	require.Equal(t, want, shard0(t, a), "the acknowledged records, read back during the sync")
	release()
	require.NoError(t, <-done)
	require.Len(t, shard0(t, a), 46)
}

// TestRolledBackFilesTakeNothingWithThem: a sync that fails discards the
// records it was to make durable, and the files that hold only those. If a
// power cut keeps the deletion of the first of those files but not of the
// next, opening deletes the next (its records were never acknowledged),
// and not the files before the gap, whose records were.
func TestRolledBackFilesTakeNothingWithThem(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	_, s := oneShard(t, fs, clk)
	want := putN(t, s, "acked", 300)
	dir := s.shardAt(0).files.path("")
	last := len(fileRecords(t, fs, dir)) - 1

	for range 20 { // spare files made ahead in the background may take some
		fs.Fail(vfs.OpSync, 0, errEIO)
	}
	batch := make([]PutInput, 4) // 160 KiB: three new files at least
	for i := range batch {
		batch[i] = PutInput{PartitionKey: "k", Data: bytes.Repeat([]byte{'x'}, 40<<10)}
	}
	out, err := s.PutBatch(bg, batch)
	require.NoError(t, err)
	require.Equal(t, len(batch), out.FailedRecordCount, "the sync failed: nothing was acknowledged")
	fs.ClearFaults()

	// The index says the batch's files were deleted: make the first of
	// those records durable and not the rest, and let the second file
	// hold intact frames from the position after the first's, as a power
	// cut may keep what the failed sync had written.
	idxName := indexFile(dir)
	b, err := readFile(fs, idxName)
	require.NoError(t, err)
	var deleted []uint32
	var ends []int
	end := 0
	segfile.ReadIndex(b, func(r segfile.IndexRecord) {
		end += segfile.IndexRecordSize(r.Entries.Len())
		if r.File == segfile.Dropped {
			deleted = append(deleted, uint32(r.First))
			ends = append(ends, end)
		}
	})
	require.GreaterOrEqual(t, len(deleted), 2, "the batch's files")
	require.Equal(t, uint32(last+1), deleted[0])
	idx, err := fs.OpenReadWrite(idxName)
	require.NoError(t, err)
	require.NoError(t, idx.Truncate(int64(ends[0])))
	require.NoError(t, idx.Sync())
	require.NoError(t, idx.Close())

	image, err := readFile(fs, segFile(dir, last))
	require.NoError(t, err)
	h, err := segfile.ParseHeader(image)
	require.NoError(t, err)
	h.File, h.First = deleted[1], uint64(len(want)+1)
	segfile.PutHeader(image, h)
	remnant := segFile(dir, int(deleted[1]))
	f, err := fs.Create(remnant)
	require.NoError(t, err)
	_, err = f.WriteAt(image, 0)
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	require.NoError(t, fs.SyncDir(path.Dir(dir)))
	fs.Crash()

	a2 := reopenAt(t, fs, clk)
	require.Empty(t, a2.Recovery().Corrupt)
	require.Equal(t, want, shard0(t, a2), "every acknowledged record, none of the batch")
	_, err = fs.Open(remnant)
	require.ErrorIs(t, err, errNotExist, "the file of discarded records is deleted")
	putN(t, mustStream(t, a2, "s"), "after", 1)
	require.Equal(t, append(want, "after 000"), shard0(t, a2))
}
