package shardlog

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/internal/vfs"
)

// TestFaultsFailCallsAndHeal: a full disk, an I/O error on sync or write, a
// file system gone read-only make the calls that need them fail with
// InternalFailure (per record in PutBatch); nothing acknowledged is lost,
// and once the fault is gone the account works again.
func TestFaultsFailCallsAndHeal(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	a := durable(t, fs, clk, WithSegmentSize(64<<10))
	require.NoError(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1})))
	s := mustStream(t, a, "s")
	var acked []string
	put := func(data string) error {
		_, err := s.Put(bg, PutInput{PartitionKey: "k", Data: []byte(data)})
		if err == nil {
			acked = append(acked, data)
		}
		return err
	}
	big := make([]byte, 40<<10) // two fill a 64 KiB segment
	for i := 0; i < 3; i++ {
		require.NoError(t, put(fmt.Sprint("before ", i)))
	}

	for _, f := range []struct {
		name string
		op   vfs.Op
		err  error
	}{
		{"sync EIO", vfs.OpSync, syscall.EIO},
		{"sync ENOSPC", vfs.OpSync, syscall.ENOSPC},
		{"new segment ENOSPC", vfs.OpAllocate, syscall.ENOSPC},
		{"new segment EIO", vfs.OpCreate, syscall.EIO},
	} {
		t.Run(f.name, func(t *testing.T) {
			fail := func() {
				// Each spare file made ahead during a call (one for each
				// of the batch's three records at most) may take a failure
				// (then the writer makes its own file); the writer meets
				// the next.
				for range 4 {
					fs.Fail(f.op, 0, f.err)
				}
			}
			fail()
			var err error
			for i := 0; err == nil && i < 4; i++ { // big records reach a new segment soon
				err = put(fmt.Sprintf("%s %d %s", f.name, i, big))
			}
			requireCode(t, err, ErrInternalFailure)
			fs.ClearFaults()
			require.NoError(t, put("after "+f.name))

			fail()
			batch := []PutInput{{PartitionKey: "k", Data: big}, {PartitionKey: "k", Data: big}, {PartitionKey: "k", Data: []byte("x")}}
			res, err := s.PutBatch(bg, batch)
			require.NoError(t, err, "a batch fails record by record")
			require.Positive(t, res.FailedRecordCount)
			for i, e := range res.Records {
				if e.ErrorCode != "" {
					require.Equal(t, "InternalFailure", e.ErrorCode)
					require.Equal(t, "Internal Service Failure", e.ErrorMessage)
					require.True(t, e.SequenceNumber.IsZero())
				} else {
					acked = append(acked, string(batch[i].Data))
				}
			}
			fs.ClearFaults()
			require.NoError(t, put("after batch "+f.name))
		})
	}

	// A read-only file system: writes that need a sync fail, and so do
	// changes to metadata, which change nothing.
	fs.SetReadOnly(true)
	requireCode(t, put("read-only"), ErrInternalFailure)
	requireCode(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: "t", ShardCount: 1})), ErrInternalFailure)
	_, err := a.Stream(StreamRef{StreamName: "t"})
	requireCode(t, err, ErrResourceNotFound)
	requireCode(t, errOf(s.SplitShard(bg, SplitShardInput{ShardToSplit: "shardId-000000000000", NewStartingHashKey: "1000"})), ErrInternalFailure)
	shards, err := s.ListShards(bg, ListShardsInput{})
	require.NoError(t, err)
	require.Len(t, shards.Shards, 1, "the failed split left nothing behind")
	lim, err := a.DescribeLimits(bg)
	require.NoError(t, err)
	require.Equal(t, 1, lim.OpenShardCount, "nor took from the quota")
	_, err = s.RegisterStreamConsumer(bg, "app")
	requireCode(t, err, ErrInternalFailure)
	consumers, err := s.ListStreamConsumers(bg, ListStreamConsumersInput{})
	require.NoError(t, err)
	require.Empty(t, consumers.Consumers)
	requireCode(t, s.AddTagsToStream(bg, map[string]string{"a": "b"}), ErrInternalFailure)
	requireCode(t, s.IncreaseStreamRetentionPeriod(bg, 48*time.Hour), ErrInternalFailure)
	sum, err := s.DescribeStreamSummary(bg)
	require.NoError(t, err)
	require.Equal(t, 24, sum.RetentionPeriodHours)
	require.Equal(t, StatusActive, sum.StreamStatus)
	fs.SetReadOnly(false)
	require.NoError(t, put("writable again"))
	require.NoError(t, errOf(s.SplitShard(bg, SplitShardInput{ShardToSplit: "shardId-000000000000", NewStartingHashKey: "1000"})))

	// Everything acknowledged is there, in order, after a power cut too.
	fs.Crash()
	b := durable(t, fs, clk)
	var got []string
	for r, err := range mustStream(t, b, "s").ReadAll(bg, StartingPosition{Type: TrimHorizon}) {
		require.NoError(t, err)
		got = append(got, string(r.Data))
	}
	for _, d := range acked {
		require.Contains(t, got, d)
	}
}

func requireCode(t testing.TB, err error, sentinel *Error) {
	t.Helper()
	require.ErrorIs(t, err, sentinel)
}

// TestSpareFileWrittenAhead: under SyncAlways the next segment file is
// written with zeros and synced ahead, with its directory entry, so that a
// power cut keeps it; one whose zeroing or syncing fails is deleted (the
// writer then makes its own file).
func TestSpareFileWrittenAhead(t *testing.T) {
	fs := vfs.NewMemFS()
	a := durable(t, fs, NewManualClock(tStart), WithSegmentSize(64<<10))
	require.NoError(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1})))
	s := mustStream(t, a, "s")
	_, err := s.Put(bg, PutInput{PartitionKey: "k", Data: []byte("x")})
	require.NoError(t, err)
	sh := s.shard("shardId-000000000000")
	sh.mu.Lock() // no Add meanwhile: the spare file is the test's
	defer sh.mu.Unlock()
	sf := sh.files
	sf.takeSpare(0, 0) // the one the Put had made: deleted
	const n, size = 100, 64 << 10

	for _, op := range []vfs.Op{vfs.OpWrite, vfs.OpSync, vfs.OpSyncDir} {
		fs.Fail(op, 0, syscall.EIO)
		sf.prepare(n, size)
		require.NotNil(t, sf.spare, "made in the background")
		require.True(t, sf.takeSpare(n, size) == nil, "op %v failed, yet the spare is kept", op)
		_, err := fs.Open(sf.fileName(n))
		require.ErrorIs(t, err, errNotExist, "the failed spare is deleted")
	}

	sf.prepare(n, size)
	sp := sf.takeSpare(n, size)
	require.NotNil(t, sp)
	require.True(t, sp.written)
	require.NoError(t, sp.f.Close())
	fs.Crash()
	b, err := readFile(fs, sf.fileName(n))
	require.NoError(t, err, "the file and its entry were synced")
	require.Equal(t, make([]byte, size), b)
}
