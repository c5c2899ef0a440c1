package shardlog

import (
	"syscall"
	"testing"

	"github.com/shardlog/shardlog/internal/vfs"
	"github.com/stretchr/testify/require"
)

// TestFullDiskCanBeFreedThroughTheAPI: on a disk with no byte free,
// writes fail (InternalFailure, ENOSPC), and DeleteStream still works: it
// frees the stream's space, after which writes work again.
func TestFullDiskCanBeFreedThroughTheAPI(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	a := durable(t, fs.Process(), clk, WithSegmentSize(64<<10))
	for _, name := range []string{"big", "small"} {
		require.NoError(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: name, ShardCount: 1})))
	}
	putN(t, mustStream(t, a, "big"), "r", 400)
	small := mustStream(t, a, "small")
	putN(t, small, "s", 3)
	fs.SetCapacity(fs.Used()) // full
	var err error
	n := 3
	for ; err == nil; n++ { // until the files made ahead are used up
		_, err = small.Put(bg, PutInput{PartitionKey: "k", Data: make([]byte, 30<<10)})
	}
	n-- // the last failed
	requireCode(t, err, ErrInternalFailure)
	require.ErrorIs(t, err, syscall.ENOSPC)

	require.NoError(t, a.DeleteStream(bg, DeleteStreamInput{StreamRef: StreamRef{StreamName: "big"}}), "deleting frees space, even on a full disk")
	for range 20 {
		_, err := small.Put(bg, PutInput{PartitionKey: "k", Data: make([]byte, 1000)})
		require.NoError(t, err, "space is free again")
	}
	_, err = fs.Open("/data/" + reserveName)
	require.NoError(t, err, "the reserve is made again")
	require.NoError(t, a.Close())
	b := durable(t, fs.Process(), clk)
	_, err = b.Stream(StreamRef{StreamName: "big"})
	requireCode(t, err, ErrResourceNotFound)
	require.Len(t, readAll(t, mustStream(t, b, "small")), n+20)
}

// TestInterruptedDeletionLeavesNoFiles: a DeleteStream whose removal of
// the files failed (or that a crash cut short) left them forever; the next
// opening removes what the manifest no longer names, and reports it.
func TestInterruptedDeletionLeavesNoFiles(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	a := durable(t, fs.Process(), clk, WithSegmentSize(64<<10))
	for _, name := range []string{"gone", "kept"} {
		require.NoError(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: name, ShardCount: 1})))
		putN(t, mustStream(t, a, name), name, 50)
	}
	goneDir := mustStream(t, a, "gone").shardAt(0).files.dir
	for range 10 {
		fs.Fail(vfs.OpRemove, 0, syscall.EIO) // the files stay
	}
	require.NoError(t, a.DeleteStream(bg, DeleteStreamInput{StreamRef: StreamRef{StreamName: "gone"}}))
	fs.ClearFaults()
	_, err := fs.ReadDir(goneDir)
	require.NoError(t, err, "left on disk")
	require.NoError(t, a.Close())

	b := durable(t, fs.Process(), clk)
	rep := b.Recovery()
	require.Equal(t, []string{goneDir}, rep.Orphans)
	_, err = fs.ReadDir(goneDir)
	require.ErrorIs(t, err, errNotExist, "removed")
	require.Len(t, readAll(t, mustStream(t, b, "kept")), 50)
	require.NoError(t, b.Close())
	c := durable(t, fs.Process(), clk)
	require.Empty(t, c.Recovery().Orphans, "once")
}
