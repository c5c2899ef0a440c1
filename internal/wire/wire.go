// Package wire lets kinesisapi hand package shardlog fields as a client
// sent them, where shardlog's Go API types them: a sequence number arrives
// as text that may not be one, and Kinesis answers such text in its own
// order and words, which shardlog reproduces from the text. Package
// shardlog sets the functions when it is initialised; they return its
// types, as any, to keep this package free of an import of it.
package wire

import "time"

var (
	// StartingPosition returns a shardlog.StartingPosition of type typ,
	// with seq as the client sent it and timestamp.
	StartingPosition func(typ, seq string, timestamp time.Time) any
	// ShardID returns the shard ID that id names as Kinesis reads an
	// input shard ID ("shardId-5" and "5" name shardId-000000000005), or
	// false if it names none.
	ShardID func(id string) (string, bool)
	// WithOrderingNumber returns in, a shardlog.PutInput, with seq as the
	// client sent it for SequenceNumberForOrdering.
	WithOrderingNumber func(in any, seq string) any
)
