package shardlog

import (
	"context"

	"github.com/shardlog/shardlog/internal/hashkey"
	"github.com/shardlog/shardlog/internal/seqnum"
)

// At returns the position of the record numbered seq: reading starts with
// it.
func At(seq SequenceNumber) StartingPosition {
	return StartingPosition{Type: AtSequenceNumber, SequenceNumber: seq}
}

// After returns the position just after the record numbered seq: reading
// starts with the next one. After a checkpoint, that is where to resume.
func After(seq SequenceNumber) StartingPosition {
	return StartingPosition{Type: AfterSequenceNumber, SequenceNumber: seq}
}

// ShardID returns the ID of the shard a sequence number belongs to, or ""
// for the zero value. A number Kinesis issued names its shard too (its
// current layout, version 2); for others, ShardID is "".
func (s SequenceNumber) ShardID() string {
	switch {
	case s.text != "":
		if i, ok := seqnum.AWSShardIndex(s.text); ok {
			return shardID(i)
		}
		return ""
	case s.IsZero():
		return ""
	}
	return shardID(s.n.Shard)
}

// Counter returns the place of a sequence number in its shard: 1 for the
// shard's first record, 2 for the next, and so on; 0 for the shard's
// StartingSequenceNumber (and the zero value, and numbers Kinesis issued).
func (s SequenceNumber) Counter() uint64 { return s.n.Counter }

// CanonicalShardID returns the shard ID that id names, as Kinesis reads a
// shard ID given as input: "shardId-5", "5" and "x-0005" all name
// "shardId-000000000005"; false if id names no shard ("shardId-",
// "a-b-5").
func CanonicalShardID(id string) (string, bool) {
	i, ok := resolveShardID(id)
	if !ok {
		return "", false
	}
	return shardID(i), true
}

// ShardIDOf returns the ID of the shard with the given index, as Kinesis
// names them: ShardIDOf(7) is "shardId-000000000007". Streams number their
// shards from 0 in the order they are created.
func ShardIDOf(index int) string {
	if index < 0 || index > 1<<32-1 {
		return ""
	}
	return shardID(uint32(index))
}

// Midpoint returns the hash key that splits r in two halves (the larger
// half first): the NewStartingHashKey that SplitShard takes to halve a
// shard. It returns "" for a range that is malformed or too narrow to
// split.
func (r HashKeyRange) Midpoint() string {
	lo, err1 := hashkey.Parse(r.StartingHashKey)
	hi, err2 := hashkey.Parse(r.EndingHashKey)
	if err1 != nil || err2 != nil || !lo.Less(hi) {
		return ""
	}
	mid := midpoint(hashkey.Range{Start: lo, End: hi})
	if !lo.Inc().Less(mid) || !mid.Less(hi) {
		return ""
	}
	return mid.String()
}

// SubscribeToShard is [Account.SubscribeToShard] for a consumer of this
// stream, named by in.ConsumerName (or in.ConsumerARN).
func (s *Stream) SubscribeToShard(ctx context.Context, in SubscribeToShardInput) (*Subscription, error) {
	if in.ConsumerARN == "" {
		c, err := s.acct.DescribeStreamConsumer(ctx, ConsumerRef{StreamARN: s.arn, ConsumerName: in.ConsumerName})
		if err != nil {
			return nil, err
		}
		in.ConsumerARN = c.ConsumerARN
	}
	return s.acct.SubscribeToShard(ctx, in)
}
