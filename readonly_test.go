package shardlog

import (
	"maps"
	"path"
	"syscall"
	"testing"

	"github.com/shardlog/shardlog/internal/vfs"
	"github.com/stretchr/testify/require"
)

// snapshot returns every file under dir with its bytes.
func snapshot(t *testing.T, fs *vfs.MemFS, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	names, err := fs.ReadDir(dir)
	require.NoError(t, err)
	for _, n := range names {
		name := path.Join(dir, n)
		b, err := readFile(fs, name)
		if err != nil { // a directory
			maps.Copy(out, snapshot(t, fs, name))
			continue
		}
		out[name] = string(b)
	}
	return out
}

// readEverything reads shard 0 of stream s with Records and with
// GetRecords, failing on any error, and returns how many records each saw.
func readEverything(t *testing.T, a *Account) (iterated, got int) {
	t.Helper()
	s := mustStream(t, a, "s")
	for _, err := range s.Records(bg, "shardId-000000000000", StartingPosition{Type: TrimHorizon}) {
		require.NoError(t, err)
		iterated++
	}
	it, err := s.GetShardIterator(bg, "shardId-000000000000", StartingPosition{Type: TrimHorizon})
	require.NoError(t, err)
	for {
		out, err := s.GetRecords(bg, GetRecordsInput{ShardIterator: it})
		require.NoError(t, err)
		if len(out.Records) == 0 {
			return iterated, got
		}
		got += len(out.Records)
		it = out.NextShardIterator
	}
}

// TestReadOnlyFileSystemStaysReadable: a file system remounted read-only
// under a running account fails its writes with InternalFailure and keeps
// every record readable, from files as from memory.
func TestReadOnlyFileSystemStaysReadable(t *testing.T) {
	fs := vfs.NewMemFS()
	a, s := oneShard(t, fs, NewManualClock(tStart))
	putN(t, s, "r", 600) // files no longer in memory
	fs.SetReadOnly(true)
	_, err := s.Put(bg, PutInput{PartitionKey: "k", Data: []byte("x")})
	for err == nil { // the open file takes a few more, until a new one is needed
		_, err = s.Put(bg, PutInput{PartitionKey: "k", Data: make([]byte, 20<<10)})
	}
	requireCode(t, err, ErrInternalFailure)
	require.ErrorIs(t, err, syscall.EROFS)
	iterated, got := readEverything(t, a)
	require.GreaterOrEqual(t, iterated, 600)
	require.Equal(t, iterated, got)
	require.Empty(t, a.Recovery().Corrupt)
}

// TestOpenReadOnly: WithReadOnly opens a store, damaged or not, without a
// single change to its files: everything reads, every change fails with
// ErrReadOnly, readers share the directory and keep writers out.
func TestOpenReadOnly(t *testing.T) {
	fs, want, dir := crashedStore(t)
	files := fileRecords(t, fs, dir)
	n := len(files) - 1 // the newest
	last := files[n][len(files[n])-1]
	flip(t, fs, segFile(dir, n), frameAt(t, fs, dir, n, last)+30) // the last record: above the mark, a torn tail a writer would cut
	before := snapshot(t, fs, "/data")
	open := func(opts ...Option) (*Account, error) {
		return NewAccount(append([]Option{withFS(fs.Process()), WithDir("/data"), WithClock(NewManualClock(tStart)), WithoutLimits(), WithAccountID("123456789012")}, opts...)...)
	}
	a, err := open(WithReadOnly())
	require.NoError(t, err)
	require.NotEmpty(t, a.Recovery().TornTails, "found and reported")
	b, err := open(WithReadOnly())
	require.NoError(t, err, "readers share")
	_, err = open()
	require.ErrorContains(t, err, "is open in another account", "no writer beside readers")

	got, err := readShard0(t, a)
	require.NoError(t, err)
	require.Equal(t, want[:len(got)], got)
	require.Greater(t, len(got), 300)
	s := mustStream(t, a, "s")
	_, err = s.Put(bg, PutInput{PartitionKey: "k", Data: []byte("x")})
	requireCode(t, err, ErrInternalFailure)
	require.ErrorIs(t, err, ErrReadOnly)
	_, err = a.CreateStream(bg, CreateStreamInput{StreamName: "t", ShardCount: 1})
	require.ErrorIs(t, err, ErrReadOnly)
	require.ErrorIs(t, s.AddTagsToStream(bg, map[string]string{"k": "v"}), ErrReadOnly)
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
	require.Equal(t, before, snapshot(t, fs, "/data"), "nothing changed on disk")

	_, err = NewAccount(withFS(vfs.NewMemFS().Process()), WithDir("/data"), WithReadOnly())
	require.ErrorContains(t, err, "no account to open read-only")

	c, err := open()
	require.NoError(t, err, "a writer once the readers are gone")
	require.NoError(t, c.Close())
}
