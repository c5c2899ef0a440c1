package shardlog

import (
	"errors"
	"fmt"

	"github.com/shardlog/shardlog/internal/segment"
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

// ErrRecordsDamaged matches a [*DamagedRecordsError] with errors.Is.
var ErrRecordsDamaged = errors.New("shardlog: stored records are damaged")

// DamagedRecordsError reports records of a durable account that cannot be
// read back: their file is missing or cut short, or their bytes fail their
// checksums ([Account.Recovery] lists what was found). They keep their
// sequence numbers; no other record is ever given one of them.
//
// The in-process readers (Records, Tail, ReadAll, TailAll and their
// Position forms) yield it in place of those records, as an error that
// does not end the iteration: if the loop goes on, reading continues after
// them. GetRecords returns the records before them, then fails with
// InternalFailure (which wraps this error) for as long as its iterator
// points at them: a consumer learns of the damage and can move past it
// with an iterator AFTER_SEQUENCE_NUMBER Last. SubscribeToShard ends with
// it, and consumer groups report it in ProcessRecordsInput.Damaged and go
// on. errors.Is matches it with ErrRecordsDamaged and ErrInternalFailure.
type DamagedRecordsError struct {
	ShardID string
	// First and Last are the sequence numbers of the first and the last
	// damaged record.
	First, Last SequenceNumber
	Count       uint64 // how many records are damaged
	Err         error  // what is wrong with them
}

// Error implements error.
func (e *DamagedRecordsError) Error() string {
	return fmt.Sprintf("shardlog: %d records of %s are damaged (%s to %s): %v", e.Count, e.ShardID, e.First, e.Last, e.Err)
}

// Is makes errors.Is(err, ErrRecordsDamaged) and errors.Is(err,
// ErrInternalFailure) hold.
func (e *DamagedRecordsError) Is(target error) bool {
	return target == ErrRecordsDamaged || ErrInternalFailure.Is(target)
}

// Unwrap returns what is wrong with the records.
func (e *DamagedRecordsError) Unwrap() error { return e.Err }

// damaged turns a cursor's error into a *DamagedRecordsError and the
// position after the damage, if it reports damage.
func (sh *shard) damaged(err error) (*DamagedRecordsError, uint64, bool) {
	var d *segment.DamageError
	if !errors.As(err, &d) {
		return nil, 0, false
	}
	return &DamagedRecordsError{ShardID: sh.id, First: sh.seq(d.From), Last: sh.seq(d.To - 1), Count: d.To - d.From, Err: d.Err}, d.To, true
}

// readError is the error a read that met err fails with: InternalFailure,
// wrapping a *DamagedRecordsError for damage.
func (sh *shard) readError(err error) *Error {
	if d, _, ok := sh.damaged(err); ok {
		e := newError(ErrInternalFailure, "Internal Service Failure: %d records of %s are damaged (%s to %s).", d.Count, sh.id, d.First, d.Last)
		e.err = d
		return e
	}
	return sh.storageError(err)
}
