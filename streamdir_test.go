package shardlog

import (
	"encoding/binary"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog/internal/vfs"
	"github.com/stretchr/testify/require"
)

// TestShardsShareTheirStreamsDirectory: a stream's shards keep their files
// in the stream's directory, named by the shard's index, with no directory
// of their own.
func TestShardsShareTheirStreamsDirectory(t *testing.T) {
	fs := vfs.NewMemFS()
	a := durable(t, fs.Process(), NewManualClock(tStart))
	require.NoError(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 3})))
	s := mustStream(t, a, "s")
	for _, key := range damageHashKeys {
		_, err := s.Put(bg, PutInput{PartitionKey: "k", ExplicitHashKey: key, Data: []byte("x")})
		require.NoError(t, err)
	}
	require.NoError(t, a.Close())
	names, err := fs.ReadDir("/data/streams/1")
	require.NoError(t, err)
	require.Equal(t, []string{"0-0000000000.seg", "2-0000000000.seg"}, names, "shard 1 holds nothing, and has no file")
}

// TestOpensShardDirectoriesOfOlderStores: a store written when each shard
// had a directory of its own opens with every record; its shards go on
// writing there, new shards (a split's children) share the stream's
// directory, and an expired shard's directory goes with it.
func TestOpensShardDirectoriesOfOlderStores(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	a, s := oneShard(t, fs, clk)
	want := putN(t, s, "old", 300) // several files, indexed
	require.NoError(t, a.Close())
	toShardDirectories(t, fs, "/data/streams/1")

	b := durable(t, fs.Process(), clk, WithSegmentSize(64<<10))
	require.Empty(t, b.Recovery().Corrupt)
	require.Empty(t, b.Recovery().Orphans)
	s = mustStream(t, b, "s")
	require.Equal(t, want, shard0(t, b))
	want = append(want, putN(t, s, "new", 200)...)
	legacy, err := fs.ReadDir("/data/streams/1/0")
	require.NoError(t, err)
	require.Greater(t, len(legacy), 4, "new files in the shard's directory")
	require.NoError(t, errOf(s.SplitShard(bg, SplitShardInput{ShardToSplit: "shardId-000000000000", NewStartingHashKey: "1000"})))
	_, err = s.Put(bg, PutInput{PartitionKey: "k", ExplicitHashKey: "5", Data: []byte("child")})
	require.NoError(t, err)
	require.NoError(t, b.Close())

	c := durable(t, fs.Process(), clk, WithSegmentSize(64<<10))
	require.Empty(t, c.Recovery().Corrupt)
	require.Equal(t, want, shard0(t, c))
	names, err := fs.ReadDir("/data/streams/1")
	require.NoError(t, err)
	require.Contains(t, names, "1-0000000000.seg", "the child's file, beside the parent's directory")
	require.Contains(t, names, "0")

	clk.Advance(25 * time.Hour) // the closed parent's records expire, and it with them
	require.NoError(t, c.ApplyRetention(bg))
	names, err = fs.ReadDir("/data/streams/1")
	require.NoError(t, err)
	require.NotContains(t, names, "0")
	require.NoError(t, c.Close())
}

// toShardDirectories rewrites a stream's directory as stores wrote it when
// each shard had one of its own: "7-index" becomes "7/index", and the
// manifest's version is 2.
func toShardDirectories(t *testing.T, fs *vfs.MemFS, dir string) {
	t.Helper()
	names, err := fs.ReadDir(dir)
	require.NoError(t, err)
	for _, n := range names {
		shard, name, ok := strings.Cut(n, "-")
		require.True(t, ok, n)
		require.NoError(t, fs.MkdirAll(path.Join(dir, shard)))
		require.NoError(t, fs.Rename(path.Join(dir, n), path.Join(dir, shard, name)))
	}
	require.NoError(t, fs.SyncDir(dir))
	for _, n := range names {
		shard, _, _ := strings.Cut(n, "-")
		require.NoError(t, fs.SyncDir(path.Join(dir, shard)))
	}
	after, err := fs.ReadDir(dir)
	require.NoError(t, err)
	require.False(t, slices.ContainsFunc(after, func(n string) bool { return strings.Contains(n, "-") }))
	m, err := fs.OpenReadWrite("/data/MANIFEST") // written by a version 2 writer
	require.NoError(t, err)
	_, err = m.WriteAt(binary.LittleEndian.AppendUint32(nil, 2), 8)
	require.NoError(t, err)
	require.NoError(t, m.Sync())
	require.NoError(t, m.Close())
}

// TestOrphansInTheStreamsDirectory: files of a shard the manifest does not
// know, and names no shard has, are removed when the account opens, and
// reported.
func TestOrphansInTheStreamsDirectory(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	a, s := oneShard(t, fs, clk)
	want := putN(t, s, "r", 10)
	require.NoError(t, a.Close())
	for _, name := range []string{"9-0000000000.seg", "9-index", "stray", "00-index"} {
		f, err := fs.Create("/data/streams/1/" + name)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	require.NoError(t, fs.MkdirAll("/data/streams/1/8"))

	b := durable(t, fs.Process(), clk)
	require.ElementsMatch(t, []string{"/data/streams/1/9-0000000000.seg", "/data/streams/1/9-index", "/data/streams/1/stray", "/data/streams/1/00-index", "/data/streams/1/8"}, b.Recovery().Orphans)
	require.Equal(t, want, shard0(t, b))
	names, err := fs.ReadDir("/data/streams/1")
	require.NoError(t, err)
	for _, n := range names {
		require.True(t, strings.HasPrefix(n, "0-"), n)
	}
	require.NoError(t, b.Close())
}

func TestStreamDirEntry(t *testing.T) {
	for _, tc := range []struct {
		entry      string
		index      uint32
		name       string
		own, valid bool
	}{
		{"7-0000000003.seg", 7, "0000000003.seg", false, true},
		{"12-index", 12, "index", false, true},
		{"12-index.tmp", 12, "index.tmp", false, true},
		{"3", 3, "", true, true},
		{"3-", 0, "", false, false},
		{"x-index", 0, "", false, false},
		{"-index", 0, "", false, false},
		{"99999999999-index", 0, "", false, false},
		{"07-index", 0, "", false, false},
		{"+7-index", 0, "", false, false},
		{"007", 0, "", false, false},
		{"0-index", 0, "index", false, true},
	} {
		index, name, own, ok := streamDirEntry(tc.entry)
		require.Equal(t, tc.valid, ok, tc.entry)
		if ok {
			require.Equal(t, []any{tc.index, tc.name, tc.own}, []any{index, name, own}, tc.entry)
		}
	}
}

// TestExpiredShardsFilesGo: a closed shard whose records expired takes its
// files, and only its, out of the stream's directory.
func TestExpiredShardsFilesGo(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	a, s := oneShard(t, fs, clk)
	putN(t, s, "parent", 50)
	require.NoError(t, errOf(s.SplitShard(bg, SplitShardInput{ShardToSplit: "shardId-000000000000", NewStartingHashKey: "1000"})))
	for _, key := range []string{"5", "2000"} {
		_, err := s.Put(bg, PutInput{PartitionKey: "k", ExplicitHashKey: key, Data: []byte("child")})
		require.NoError(t, err)
	}
	clk.Advance(25 * time.Hour)
	_, err := s.Put(bg, PutInput{PartitionKey: "k", ExplicitHashKey: "5", Data: []byte("later")})
	require.NoError(t, err)
	require.NoError(t, a.ApplyRetention(bg))
	names, err := fs.ReadDir("/data/streams/1")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for _, n := range names {
		require.False(t, strings.HasPrefix(n, "0-"), "%s: the expired parent's", n)
	}
	require.NoError(t, a.Close())
	b := reopenAt(t, fs, clk)
	require.Empty(t, b.Recovery().Orphans)
	require.Empty(t, b.Recovery().Corrupt)
	require.NoError(t, b.Close())
}

// FuzzStreamDirEntry: a name taken for a shard's is exactly the name that
// shard gives its file (or its own directory), so no other name is read as
// one of its files.
func FuzzStreamDirEntry(f *testing.F) {
	for _, s := range []string{"7-0000000003.seg", "12-index", "3", "07-index", "-", "4294967296-index"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, entry string) {
		index, name, own, ok := streamDirEntry(entry)
		if !ok {
			return
		}
		want := strconv.FormatUint(uint64(index), 10)
		if !own {
			want += "-" + name
		}
		if want != entry {
			t.Fatalf("%q taken for shard %d's %q (own %v)", entry, index, name, own)
		}
	})
}

// TestStrayFileIsNotTheShards: a file whose name only parses as one of a
// shard's ("0-1.seg" beside "0-0000000001.seg") is left alone: opening
// neither reads it as the shard's nor deletes the shard's own file for it,
// in the stream's directory and in a shard's own.
func TestStrayFileIsNotTheShards(t *testing.T) {
	for _, own := range []bool{false, true} {
		t.Run(fmt.Sprint("own directory=", own), func(t *testing.T) {
			fs := vfs.NewMemFS()
			clk := NewManualClock(tStart)
			a, s := oneShard(t, fs, clk)
			want := putN(t, s, "r", 10) // files 0 and 1
			require.NoError(t, a.Close())
			stray := "/data/streams/1/0-1.seg"
			if own {
				toShardDirectories(t, fs, "/data/streams/1")
				stray = "/data/streams/1/0/1.seg"
			}
			f, err := fs.Create(stray)
			require.NoError(t, err)
			_, err = f.WriteAt([]byte("not a segment file"), 0)
			require.NoError(t, err)
			require.NoError(t, f.Close())

			b := reopenAt(t, fs, clk)
			require.Empty(t, b.Recovery().Corrupt)
			require.Equal(t, want, shard0(t, b))
			require.NoError(t, b.Close())
			_, err = fs.Open(stray)
			require.NoError(t, err, "left alone")
		})
	}
}
