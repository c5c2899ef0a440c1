package shardlog

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Fault is a failure a test injects into an account (see
// [Account.InjectFault]), to see how its code copes with what Kinesis
// does under load or outages: errors, failed records of a batch, slow
// calls. Faults act in the library and therefore through kinesisapi too,
// where an AWS SDK's retry logic meets them.
type Fault struct {
	// Operation is the Kinesis operation that fails, by its AWS name:
	// any operation shardlog implements, PutRecord for Stream.Put and
	// PutRecords for PutBatch. GetRecords faults also act on the Go
	// iterators (Records, Tail, TailAll, …) as they open a shard, and on
	// the reads of embedded consumer groups, which back off and retry as
	// the KCL does. Required.
	Operation string
	// StreamName and ShardID, if set, limit the fault to calls on that
	// stream, and on that shard. ShardID is for the operations on one
	// shard: PutRecord (the shard the record goes to), GetRecords,
	// GetShardIterator, SubscribeToShard, SplitShard and MergeShards (the
	// shard to split or merge).
	StreamName string
	ShardID    string
	// Times is how many matching calls the fault acts on: 0 means once, a
	// negative number every call until it is removed.
	Times int
	// Err is what the call returns, e.g. ErrProvisionedThroughputExceeded
	// or an *Error of one's own making. With Records, the code and message
	// of the failed records (InternalFailure if nil). Nil with Delay: the
	// call waits, then runs.
	Err *Error
	// Records, for PutRecords, lists the indexes of the records that fail;
	// the others are written, and the call succeeds.
	Records []int
	// Delay makes the call wait this long on the account's clock first (a
	// ManualClock makes it wait until the test advances it), or until its
	// context is done.
	Delay time.Duration
}

// faults are the faults injected into an account. Calls look at active
// first, so that an account with none pays one atomic load.
type faults struct {
	active atomic.Int32
	mu     sync.Mutex
	list   []*injected
}

type injected struct {
	Fault
	shard int64 // the index of ShardID; -1 for any shard
	left  int   // calls still to act on; negative: no end
}

// InjectFault makes calls fail, or wait, as f says, until it has acted
// f.Times times or remove is called. Faults act in the order they were
// injected; a call meets at most one.
//
// Errors: ErrInvalidArgument for a fault without an operation or with one
// shardlog does not implement, with a malformed ShardID or one for an
// operation on no single shard, or with Records for another operation
// than PutRecords.
func (a *Account) InjectFault(f Fault) (remove func(), err error) {
	scope, known := operations[f.Operation]
	switch {
	case f.Operation == "":
		return nil, newError(ErrInvalidArgument, "A fault needs an operation.")
	case !known:
		return nil, newError(ErrInvalidArgument, "%s is not an operation shardlog implements: %s.", f.Operation, operationNames())
	case f.ShardID != "" && scope != onShard:
		return nil, newError(ErrInvalidArgument, "%s acts on no single shard: a fault on it cannot name one.", f.Operation)
	case len(f.Records) > 0 && f.Operation != "PutRecords":
		return nil, newError(ErrInvalidArgument, "Only PutRecords faults can fail records, not %s.", f.Operation)
	}
	in := &injected{Fault: f, shard: -1, left: f.Times}
	if f.ShardID != "" {
		i, ok := parseShardIndex(f.ShardID)
		if !ok {
			return nil, newError(ErrInvalidArgument, "%s is not a shard ID.", f.ShardID)
		}
		in.shard = int64(i)
	}
	if in.left == 0 {
		in.left = 1
	}
	in.Records = slices.Clone(f.Records)
	if f.Err != nil {
		e := *f.Err // the caller's may change
		in.Err = &e
	}
	fs := &a.faults
	fs.mu.Lock()
	fs.list = append(fs.list, in)
	fs.active.Add(1)
	fs.mu.Unlock()
	return func() { fs.remove(in) }, nil
}

func (fs *faults) remove(in *injected) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if i := slices.Index(fs.list, in); i >= 0 {
		fs.list = slices.Delete(fs.list, i, i+1)
		fs.active.Add(-1)
	}
}

// take returns the first fault that matches a call of op on stream (and
// the shard of that index, unless it is -1), counting the call against it,
// or nil.
func (fs *faults) take(op, stream string, shard int64) *injected {
	if fs.active.Load() == 0 {
		return nil
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, in := range fs.list {
		if in.Operation != op || in.StreamName != "" && in.StreamName != stream || in.shard >= 0 && shard >= 0 && in.shard != shard {
			continue
		}
		if in.left > 0 {
			if in.left--; in.left == 0 {
				fs.list = slices.Delete(fs.list, i, i+1)
				fs.active.Add(-1)
			}
		}
		return in
	}
	return nil
}

// fault applies the fault, if any, that matches a call of op on stream (and
// the shard of that index, or -1): it waits out its delay and returns its
// error.
func (a *Account) fault(ctx context.Context, op, stream string, shard int64) error {
	in := a.faults.take(op, stream, shard)
	if in == nil || len(in.Records) > 0 {
		return nil
	}
	if in.Delay > 0 {
		if err := a.sleep(ctx, in.Delay); err != nil {
			return err
		}
	}
	if in.Err == nil {
		return nil
	}
	return &Error{Code: in.Err.Code, Message: in.Err.Message, Retryable: in.Err.Retryable}
}

// failedRecords returns the records of a PutRecords call on stream that a
// fault fails, by index, with their error, or nil. It waits out the
// fault's delay first.
func (a *Account) failedRecords(ctx context.Context, stream string) (map[int]*Error, error) {
	in := a.faults.take("PutRecords", stream, -1)
	if in == nil {
		return nil, nil
	}
	if in.Delay > 0 {
		if err := a.sleep(ctx, in.Delay); err != nil {
			return nil, err
		}
	}
	if len(in.Records) == 0 {
		if in.Err == nil {
			return nil, nil
		}
		return nil, &Error{Code: in.Err.Code, Message: in.Err.Message, Retryable: in.Err.Retryable}
	}
	e := in.Err
	if e == nil {
		e = &Error{Code: "InternalFailure", Message: "Internal service failure."}
	}
	out := make(map[int]*Error, len(in.Records))
	for _, i := range in.Records {
		out[i] = e
	}
	return out, nil
}

// sleep waits d on the account's clock, or until ctx is done or the
// account closes.
func (a *Account) sleep(ctx context.Context, d time.Duration) error {
	if err := sleep(ctx, a.cfg.clock, d, a.done); err != errStopped {
		return err
	}
	return ErrClosed
}

// shardIndexOr is the index of a shard ID, or -1 if it is not one.
func shardIndexOr(id string) int64 {
	if i, ok := resolveShardID(id); ok {
		return int64(i)
	}
	return -1
}
