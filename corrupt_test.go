package shardlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardlog/shardlog/internal/manifest"
	"github.com/shardlog/shardlog/internal/segfile"
	"github.com/shardlog/shardlog/internal/vfs"
	"github.com/stretchr/testify/require"
)

// closedStore writes 400 records of about 500 bytes to one shard (files
// of 2, 4, ... 32 KiB, then of 64 KiB from file 5 on), closes the account,
// and returns the file system, the records in order, and the shard's
// directory.
func closedStore(t *testing.T) (*vfs.MemFS, []string, string) { return writtenStore(t, false) }

// crashedStore is closedStore with 460 records and a power cut instead of
// Close: the newest file is not indexed, its records are found by a scan.
func crashedStore(t *testing.T) (*vfs.MemFS, []string, string) { return writtenStore(t, true) }

func writtenStore(t *testing.T, crash bool) (*vfs.MemFS, []string, string) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	a := durable(t, fs.Process(), clk, WithSegmentSize(64<<10))
	require.NoError(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1})))
	s := mustStream(t, a, "s")
	var want []string
	n := 400
	if crash {
		n = 460 // a newest file long enough for its sync mark to have moved
	}
	for i := 0; i < n; i++ {
		d := fmt.Sprintf("record %03d %s", i, strings.Repeat("x", 480))
		_, err := s.Put(bg, PutInput{PartitionKey: "k", Data: []byte(d)})
		require.NoError(t, err)
		want = append(want, d)
	}
	dir := s.shardAt(0).files.path("")
	if crash {
		fs.Crash()
	} else {
		require.NoError(t, a.Close())
	}
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

// readPast reads the whole shard, going on past damage: the records by
// position, and the positions reported damaged.
func readPast(t *testing.T, a *Account) (map[uint64]string, []uint64) {
	t.Helper()
	got := map[uint64]string{}
	var damaged []uint64
	for r, err := range mustStream(t, a, "s").Records(bg, "shardId-000000000000", StartingPosition{Type: TrimHorizon}) {
		if err != nil {
			var d *DamagedRecordsError
			require.ErrorAs(t, err, &d)
			require.ErrorIs(t, err, ErrRecordsDamaged)
			require.ErrorIs(t, err, ErrInternalFailure)
			require.Equal(t, d.Count, d.Last.n.Counter-d.First.n.Counter+1)
			for c := d.First.n.Counter; c <= d.Last.n.Counter; c++ {
				damaged = append(damaged, c-1)
			}
			continue
		}
		pos := r.SequenceNumber.n.Counter - 1
		require.NotContains(t, got, pos)
		got[pos] = string(r.Data)
	}
	return got, damaged
}

// A shard's files are named by its prefix path (shardFiles.path("")): the
// stream's directory, then the shard's index and a dash.

func segFile(prefix string, n int) string { return prefix + fmt.Sprintf("%010d.seg", n) }

func indexFile(prefix string) string { return prefix + "index" }

// shardEntries lists the shard's files, named without its prefix.
func shardEntries(fs vfs.FS, prefix string) ([]string, error) {
	names, err := fs.ReadDir(path.Dir(prefix))
	var out []string
	for _, n := range names {
		if rest, ok := strings.CutPrefix(n, path.Base(prefix)); ok {
			out = append(out, rest)
		}
	}
	return out, err
}

func flip(t *testing.T, fs *vfs.MemFS, name string, off int64) {
	f, err := fs.OpenReadWrite(name)
	require.NoError(t, err)
	defer f.Close()
	b := make([]byte, 1)
	_, err = f.ReadAt(b, off)
	require.NoError(t, err)
	b[0] ^= 0x10
	_, err = f.WriteAt(b, off)
	require.NoError(t, err)
}

func truncate(t *testing.T, fs *vfs.MemFS, name string, size int64) {
	f, err := fs.OpenReadWrite(name)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(size))
	require.NoError(t, f.Close())
}

// fileRecords returns the positions of the records in each segment file
// of dir, from their frames, in a copy of the file system.
func fileRecords(t *testing.T, fs *vfs.MemFS, dir string) [][]uint64 {
	t.Helper()
	var out [][]uint64
	for n := 0; ; n++ {
		b, err := readFile(fs, segFile(dir, n))
		if errors.Is(err, errNotExist) {
			return out
		}
		require.NoError(t, err)
		h, err := segfile.ParseHeader(b)
		if err != nil && zeroBytes(b) {
			return out // made ahead, never written
		}
		require.NoError(t, err)
		var ps []uint64
		for _, r := range segfile.Recover(b, segfile.HeaderSize, h.First, true, h.Seed()).Runs {
			for i := range r.Entries.Len() {
				ps = append(ps, r.First+uint64(i))
			}
		}
		out = append(out, ps)
	}
}

// frameAt returns the offset in its file of the frame of the record at pos.
func frameAt(t *testing.T, fs *vfs.MemFS, dir string, file int, pos uint64) int64 {
	t.Helper()
	b, err := readFile(fs, segFile(dir, file))
	require.NoError(t, err)
	h, err := segfile.ParseHeader(b)
	require.NoError(t, err)
	for _, r := range segfile.Recover(b, segfile.HeaderSize, h.First, true, h.Seed()).Runs {
		p := r.First
		for e := range r.Entries.From(uint32(r.Off)) {
			if p == pos {
				return int64(e.KeyOff) - segfile.FrameHeader
			}
			p++
		}
	}
	t.Fatalf("no record %d in file %d", pos, file)
	return 0
}

// TestCorruptionIsReportedNeverReturned: flipped bits, truncated and
// deleted files in a closed or crashed store are found (when opening or
// when read back) and reported; every intact record is returned, with its
// own sequence number; reading a damaged one fails with a
// DamagedRecordsError naming exactly the records lost; the shard's end
// never moves back (new records get new sequence numbers), and no file
// with an intact record is deleted.
func TestCorruptionIsReportedNeverReturned(t *testing.T) {
	type store func(t *testing.T) (*vfs.MemFS, []string, string)
	for _, tc := range []struct {
		name   string
		store  store
		damage func(t *testing.T, fs *vfs.MemFS, dir string, files [][]uint64) []uint64 // the records it damages
		atOpen bool                                                                     // reported when opening (otherwise when read back)
		gone   int                                                                      // the file the damage deleted, if any (-1: none, -2: the newest)
	}{
		{"bit flipped in a sealed file's record", closedStore, func(t *testing.T, fs *vfs.MemFS, dir string, files [][]uint64) []uint64 {
			p := files[5][17]
			flip(t, fs, segFile(dir, 5), frameAt(t, fs, dir, 5, p)+40)
			return []uint64{p}
		}, false, -1},
		{"bit flipped in a sealed file's header", closedStore, func(t *testing.T, fs *vfs.MemFS, dir string, _ [][]uint64) []uint64 {
			flip(t, fs, segFile(dir, 5), 20)
			return nil
		}, true, -1},
		{"sealed file truncated mid-frame", closedStore, func(t *testing.T, fs *vfs.MemFS, dir string, files [][]uint64) []uint64 {
			truncate(t, fs, segFile(dir, 5), frameAt(t, fs, dir, 5, files[5][30])+100)
			return files[5][30:]
		}, true, -1},
		{"file in the middle deleted", closedStore, func(t *testing.T, fs *vfs.MemFS, dir string, files [][]uint64) []uint64 {
			require.NoError(t, fs.Remove(segFile(dir, 5)))
			return files[5]
		}, true, 5},
		{"first file deleted", closedStore, func(t *testing.T, fs *vfs.MemFS, dir string, files [][]uint64) []uint64 {
			require.NoError(t, fs.Remove(segFile(dir, 0)))
			return files[0]
		}, true, 0},
		{"newest file deleted", closedStore, func(t *testing.T, fs *vfs.MemFS, dir string, files [][]uint64) []uint64 {
			require.NoError(t, fs.Remove(segFile(dir, len(files)-1)))
			return files[len(files)-1]
		}, true, -2},
		{"bit flipped in the index", closedStore, func(t *testing.T, fs *vfs.MemFS, dir string, _ [][]uint64) []uint64 {
			flip(t, fs, indexFile(dir), 100)
			return nil
		}, false, -1},
		{"index deleted", closedStore, func(t *testing.T, fs *vfs.MemFS, dir string, _ [][]uint64) []uint64 {
			require.NoError(t, fs.Remove(indexFile(dir)))
			return nil
		}, false, -1},
		{"index and a file in the middle deleted", closedStore, func(t *testing.T, fs *vfs.MemFS, dir string, files [][]uint64) []uint64 {
			require.NoError(t, fs.Remove(indexFile(dir)))
			require.NoError(t, fs.Remove(segFile(dir, 4)))
			return files[4]
		}, true, 4},
		{"index deleted, a file in the middle truncated mid-frame", closedStore, func(t *testing.T, fs *vfs.MemFS, dir string, files [][]uint64) []uint64 {
			require.NoError(t, fs.Remove(indexFile(dir)))
			truncate(t, fs, segFile(dir, 4), frameAt(t, fs, dir, 4, files[4][40])+10)
			return files[4][40:]
		}, true, -1},
		{"bit flipped in the middle of the newest file, not indexed", crashedStore, func(t *testing.T, fs *vfs.MemFS, dir string, files [][]uint64) []uint64 {
			last := len(files) - 1
			p := files[last][len(files[last])/2]
			flip(t, fs, segFile(dir, last), frameAt(t, fs, dir, last, p)+40)
			return []uint64{p}
		}, true, -1},
		{"length flipped in the middle of the newest file, not indexed", crashedStore, func(t *testing.T, fs *vfs.MemFS, dir string, files [][]uint64) []uint64 {
			last := len(files) - 1
			p := files[last][len(files[last])/2]
			flip(t, fs, segFile(dir, last), frameAt(t, fs, dir, last, p)+6)
			return []uint64{p}
		}, true, -1},
		{"bit flipped in the newest file's header, not indexed", crashedStore, func(t *testing.T, fs *vfs.MemFS, dir string, files [][]uint64) []uint64 {
			flip(t, fs, segFile(dir, len(files)-1), 20)
			return nil
		}, true, -1},
		{"newest file cut short below its sync mark", crashedStore, func(t *testing.T, fs *vfs.MemFS, dir string, files [][]uint64) []uint64 {
			// The records below the mark are damage; the file was cut
			// short, so the records after them, up to what its bytes could
			// hold, may be lost: their positions are not given again.
			last := len(files) - 1
			b, err := readFile(fs, segFile(dir, last))
			require.NoError(t, err)
			mark, ok := segfile.ParseMark(b)
			require.True(t, ok)
			require.Greater(t, mark.Pos, files[last][0]+5)
			truncate(t, fs, segFile(dir, last), frameAt(t, fs, dir, last, mark.Pos-5)+10)
			return files[last][slices.Index(files[last], mark.Pos-5):]
		}, true, -1},
		{"bit flipped in the last record of a closed store", closedStore, func(t *testing.T, fs *vfs.MemFS, dir string, files [][]uint64) []uint64 {
			last := len(files) - 1
			p := files[last][len(files[last])-1]
			flip(t, fs, segFile(dir, last), frameAt(t, fs, dir, last, p)+40)
			return []uint64{p}
		}, true, -1}, // the manifest says it was durable
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, want, dir := tc.store(t)
			files := fileRecords(t, fs, dir)
			require.GreaterOrEqual(t, len(files), 7, "2, 4, ... 64 KiB, and more of 64 KiB")
			gone := tc.gone
			if gone == -2 {
				gone = len(files) - 1
			}
			damaged := tc.damage(t, fs, dir, files)
			a, err := reopen(t, fs)
			require.NoError(t, err, "damage to records does not keep the account from opening")
			if tc.atOpen {
				require.NotEmpty(t, a.Recovery().Corrupt)
			} else {
				require.Empty(t, a.Recovery().Corrupt)
			}
			require.Empty(t, a.Recovery().TornTails, "damage is not a torn tail")
			got, bad := readPast(t, a)
			if tc.name == "newest file cut short below its sync mark" {
				require.Equal(t, damaged, bad[:len(damaged)], "the records cut off are reported")
				damaged = bad // and the ones it could have held after them
			}
			require.Equal(t, damaged, bad, "exactly the damaged records are reported")
			if len(damaged) > 0 {
				require.NotEmpty(t, a.Recovery().Corrupt, "found when read back")
			}
			for i, d := range want {
				if !slices.Contains(damaged, uint64(i)) {
					require.Equal(t, d, got[uint64(i)], "record %d, intact, is returned with its sequence number", i)
				}
			}
			lost := 0
			for _, p := range damaged {
				if p < uint64(len(want)) {
					lost++
				}
			}
			require.Equal(t, len(want)-lost, len(got), "every intact record")

			// GetRecords fails at the damage, after the records before it.
			if len(damaged) > 0 {
				s := mustStream(t, a, "s")
				it, err := s.GetShardIterator(bg, "shardId-000000000000", StartingPosition{Type: TrimHorizon})
				require.NoError(t, err)
				n := 0
				for {
					out, err := s.GetRecords(bg, GetRecordsInput{ShardIterator: it})
					if err != nil {
						requireCode(t, err, ErrInternalFailure)
						require.ErrorIs(t, err, ErrRecordsDamaged)
						require.Equal(t, int(damaged[0]), n, "every record before the damage came first")
						break
					}
					require.NotEmpty(t, out.Records, "never an empty answer while records remain")
					n += len(out.Records)
					it = out.NextShardIterator
				}
			}

			// New records go after everything the shard held.
			s := mustStream(t, a, "s")
			next := uint64(len(want))
			if len(damaged) > 0 {
				next = max(next, damaged[len(damaged)-1]+1)
			}
			for i := range 20 {
				r, err := s.Put(bg, PutInput{PartitionKey: "k", Data: []byte(fmt.Sprint("new ", i))})
				require.NoError(t, err)
				require.Equal(t, next+uint64(i), r.SequenceNumber.n.Counter-1)
			}
			require.NoError(t, a.Close())
			after, err := shardEntries(fs, dir)
			require.NoError(t, err)
			for n := range files {
				if n != gone {
					require.Contains(t, after, fmt.Sprintf("%010d.seg", n), "a file with intact records is kept")
				}
			}
			b, err := reopen(t, fs)
			require.NoError(t, err)
			got2, bad2 := readPast(t, b)
			require.Equal(t, damaged, bad2, "the same damage, the next time")
			require.Equal(t, len(got)+20, len(got2))
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
	f, err := fs2.OpenReadWrite(segFile(dir2, 1))
	require.NoError(t, err)
	h := make([]byte, segfile.HeaderSize)
	_, err = f.ReadAt(h, 0)
	require.NoError(t, err)
	binary.LittleEndian.PutUint32(h[8:], segfile.Version+1) // with the checksum every version keeps
	binary.LittleEndian.PutUint32(h[60:], crc32.Update(segfile.Checksum(h[:40]), crc32.MakeTable(crc32.Castagnoli), h[56:60]))
	_, err = f.WriteAt(h, 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = reopen(t, fs2)
	require.ErrorIs(t, err, segfile.ErrNewer)
	_ = dir
}

// damagedRecord flips a byte in a record of a closed store (in file 5)
// and reopens it.
func damagedRecord(t *testing.T) (*Account, []string, uint64) {
	t.Helper()
	fs, want, dir := closedStore(t)
	files := fileRecords(t, fs, dir)
	p := files[5][10]
	flip(t, fs, segFile(dir, 5), frameAt(t, fs, dir, 5, p)+40)
	a, err := reopen(t, fs)
	require.NoError(t, err)
	return a, want, p
}

// TestDamageEndsASubscription: SubscribeToShard delivers the records
// before damage, then ends with InternalFailure naming it, not silence.
func TestDamageEndsASubscription(t *testing.T) {
	a, _, p := damagedRecord(t)
	s := mustStream(t, a, "s")
	c, err := s.RegisterStreamConsumer(bg, "c")
	require.NoError(t, err)
	sub, err := a.SubscribeToShard(bg, SubscribeToShardInput{ConsumerARN: c.ConsumerARN, ShardID: "shardId-000000000000", StartingPosition: StartingPosition{Type: TrimHorizon}})
	require.NoError(t, err)
	defer sub.Close()
	n := 0
	for ev := range sub.Events() {
		n += len(ev.Records)
	}
	require.Equal(t, int(p), n, "every record before the damage")
	err = sub.Err()
	requireCode(t, err, ErrInternalFailure)
	var d *DamagedRecordsError
	require.ErrorAs(t, err, &d)
	require.Equal(t, uint64(1), d.Count)
	require.Equal(t, p, d.First.n.Counter-1)
}

// damageRecorder is a group's processor that keeps what it is given and
// says so on batches.
type damageRecorder struct {
	mu      sync.Mutex
	got     map[uint64]bool
	damaged []*DamagedRecordsError
	batches chan struct{}
}

func (r *damageRecorder) Initialize(context.Context, InitializeInput) error { return nil }
func (r *damageRecorder) ProcessRecords(_ context.Context, in ProcessRecordsInput) error {
	r.mu.Lock()
	if in.Damaged != nil {
		r.damaged = append(r.damaged, in.Damaged)
	}
	for _, rec := range in.Records {
		r.got[rec.SequenceNumber.n.Counter-1] = true
	}
	r.mu.Unlock()
	select {
	case r.batches <- struct{}{}:
	default:
	}
	return nil
}
func (r *damageRecorder) LeaseLost(context.Context, LeaseLostInput)                       {}
func (r *damageRecorder) ShardEnded(context.Context, ShardEndedInput) error               { return nil }
func (r *damageRecorder) ShutdownRequested(context.Context, ShutdownRequestedInput) error { return nil }

// apiOnly hides that a StreamAPI is a *Stream: a group on it reads through
// the API, as it would on Amazon Kinesis.
type apiOnly struct{ StreamAPI }

// TestGroupsReportDamageAndGoOn: a consumer group, polling or with
// enhanced fan-out, on the stream or through the StreamAPI, is told of a
// damaged record and processes the rest.
func TestGroupsReportDamageAndGoOn(t *testing.T) {
	for _, api := range []bool{false, true} {
		for _, efo := range []bool{false, true} {
			t.Run(fmt.Sprint("api=", api, "/fan-out=", efo), func(t *testing.T) { groupPassesDamage(t, api, efo) })
		}
	}
}

func groupPassesDamage(t *testing.T, api, efo bool) {
	a, want, p := damagedRecord(t)
	s := mustStream(t, a, "s")
	rec := &damageRecorder{got: map[uint64]bool{}, batches: make(chan struct{}, 1)}
	ctx, stop := context.WithCancel(bg)
	done := make(chan error)
	clk := a.cfg.clock.(*ManualClock)
	go func() {
		cfg := WorkerConfig{Application: "app", EnhancedFanOut: efo, NewProcessor: func(string) RecordProcessor { return rec }}
		if api {
			cfg.Leases, cfg.Clock = NewMemoryLeaseStore(), clk
			done <- RunWorker(ctx, apiOnly{s}, cfg)
			return
		}
		done <- RunWorker(ctx, s, cfg)
	}()
	for waited := 0; ; {
		rec.mu.Lock()
		n := len(rec.got)
		rec.mu.Unlock()
		if n == len(want)-1 {
			break
		}
		select {
		case <-rec.batches:
		case <-time.After(20 * time.Millisecond):
			// Idle: a subscription again within five seconds of the last
			// one waits for the clock.
			clk.Advance(time.Second)
			if waited++; waited > 500 {
				t.Fatalf("%d records processed", n)
			}
		}
	}
	stop()
	require.NoError(t, <-done)
	require.NotContains(t, rec.got, p)
	require.Len(t, rec.damaged, 1)
	require.Equal(t, p, rec.damaged[0].First.n.Counter-1)
	require.Equal(t, uint64(1), rec.damaged[0].Count)
}
