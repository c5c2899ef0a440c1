package shardlog

import (
	"time"

	"github.com/shardlog/shardlog/internal/wire"
)

// kinesisapi passes sequence numbers as clients sent them, so that text
// that is not a number gets Kinesis's answer (see internal/wire).
func init() {
	wire.StartingPosition = func(typ, seq string, timestamp time.Time) any {
		return StartingPosition{Type: IteratorType(typ), Timestamp: timestamp, text: seq}
	}
	wire.ShardID = func(id string) (string, bool) {
		i, ok := resolveShardID(id)
		if !ok {
			return "", false
		}
		return shardID(i), true
	}
	wire.WithOrderingNumber = func(in any, seq string) any {
		p := in.(PutInput)
		p.orderingText = seq
		return p
	}
}
