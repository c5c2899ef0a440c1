package shardlog

import (
	"fmt"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
)

// kinesisSeq is a number of Kinesis's own layout (version 2) for shard
// index shard, rising with c.
func kinesisSeq(t *testing.T, shard uint32, c uint64) SequenceNumber {
	t.Helper()
	n, _ := new(big.Int).SetString(fmt.Sprintf("2%011x%017x%09x%08x2", 0, c, 0, shard), 16)
	seq, err := ParseSequenceNumber(n.String())
	require.NoError(t, err)
	require.NotEmpty(t, seq.text, "kept as Kinesis's")
	require.Equal(t, shardID(shard), seq.ShardID())
	return seq
}

// TestCheckpointUserRecordOfKinesisNumbers: Kinesis's numbers have no
// predecessor to name, so a checkpoint at an aggregate's first user record
// lands on the batch's record before it, or stays where it is.
func TestCheckpointUserRecordOfKinesisNumbers(t *testing.T) {
	store := NewMemoryLeaseStore()
	h := &heldLease{key: shardID(0), lease: Lease{Key: shardID(0), Owner: "w", Counter: 1}}
	require.NoError(t, store.Swap(bg, "t", nil, h.lease))
	w := &worker{cfg: WorkerConfig{Leases: store}, table: "t"}
	a, plain, b := kinesisSeq(t, 0, 10), kinesisSeq(t, 0, 11), kinesisSeq(t, 0, 12)
	users := []UserRecord{
		{Record: Record{SequenceNumber: a}, SubSequenceNumber: 0, Aggregated: true},
		{Record: Record{SequenceNumber: a}, SubSequenceNumber: 1, Aggregated: true},
		{Record: Record{SequenceNumber: a}, SubSequenceNumber: 2, Aggregated: true},
		{Record: Record{SequenceNumber: plain}},
		{Record: Record{SequenceNumber: b}, SubSequenceNumber: 0, Aggregated: true},
		{Record: Record{SequenceNumber: b}, SubSequenceNumber: 1, Aggregated: true},
	}
	c := &Checkpointer{w: w, h: h, last: b, users: users}
	stored := func() (SequenceNumber, int64) {
		ls, err := store.Leases(bg, "t")
		require.NoError(t, err)
		return ls[0].Checkpoint, ls[0].CheckpointSubSequence
	}
	requireAt := func(seq SequenceNumber, sub int64, why string) {
		t.Helper()
		got, gotSub := stored()
		require.Equal(t, seq.String(), got.String(), why)
		require.Equal(t, sub, gotSub, why)
	}

	require.NoError(t, c.CheckpointUserRecord(bg, users[0]))
	requireAt(SequenceNumber{}, 0, "the batch's first user record: no checkpoint to move to")
	require.NoError(t, c.CheckpointUserRecord(bg, users[1]))
	requireAt(a, 1, "inside the first aggregate")
	require.NoError(t, c.CheckpointUserRecord(bg, users[4]))
	requireAt(plain, 0, "the second aggregate's first: the record before it")
	require.NoError(t, c.CheckpointUserRecord(bg, users[5]))
	requireAt(b, 0, "the second aggregate's last: all of it")

	require.ErrorIs(t, c.CheckpointAt(bg, kinesisSeq(t, 1, 11)), ErrInvalidArgument, "another shard's")
	require.ErrorIs(t, c.CheckpointAt(bg, kinesisSeq(t, 0, 13)), ErrInvalidArgument, "not delivered yet")
	require.NoError(t, c.CheckpointAt(bg, plain))
	requireAt(plain, 0, "a delivered record")
}
