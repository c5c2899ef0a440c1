package shardlog

import (
	"errors"
	"fmt"
)

// ErrRecordsLost matches a [*LostRecordsError] with errors.Is.
var ErrRecordsLost = errors.New("shardlog: records removed before they were read")

// LostRecordsError reports records that retention or a size bound removed
// before a reader reached them. The in-process readers (Records, Tail,
// ReadAll, TailAll and their Position forms) yield it in place of those
// records, as an error that does not end the iteration: if the loop goes
// on, reading continues with the oldest record still there. GetRecords and
// SubscribeToShard keep Kinesis's behaviour and skip such records silently.
type LostRecordsError struct {
	ShardID string
	// First and Last are the sequence numbers of the first and the last
	// record lost.
	First, Last SequenceNumber
	Count       uint64 // how many records were lost
}

// Error implements error.
func (e *LostRecordsError) Error() string {
	return fmt.Sprintf("shardlog: %d records of %s were removed before they were read (%s to %s)", e.Count, e.ShardID, e.First, e.Last)
}

// Is makes errors.Is(err, ErrRecordsLost) hold.
func (e *LostRecordsError) Is(target error) bool { return target == ErrRecordsLost }

// lost reports the records at positions [from, to) of sh as lost.
func (sh *shard) lost(from, to uint64) *LostRecordsError {
	return &LostRecordsError{ShardID: sh.id, First: sh.seq(from), Last: sh.seq(to - 1), Count: to - from}
}
