package producer

import (
	"context"
	"sync"

	"github.com/shardlog/shardlog"
)

// Result is the outcome of one Put: where the record was stored, or why it
// was not. Its fields are set once Done is closed, and never change after.
type Result struct {
	mu       sync.Mutex
	done     chan struct{} // made by the first Done or Wait
	finished bool

	// ShardID and SequenceNumber say where the record is: for an
	// aggregated record, its Kinesis record's.
	ShardID        string
	SequenceNumber shardlog.SequenceNumber
	// SubSequenceNumber is the record's place in its aggregate (0 when it
	// was not aggregated), as consumers that deaggregate number it.
	SubSequenceNumber int64
	// Attempts counts the PutRecords calls that carried the record.
	Attempts int
	// Err is why the record was not stored: the last failure once its
	// RecordTTL ran out (ErrExpired wrapping it), a failure that retrying
	// cannot mend, or the Close that gave up on it.
	Err error
}

func newResult() *Result { return &Result{} }

// Done is closed once the outcome is known.
func (r *Result) Done() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done == nil {
		r.done = make(chan struct{})
		if r.finished {
			close(r.done)
		}
	}
	return r.done
}

// Finished reports whether the outcome is known (Done is closed), without
// making Done's channel: for callers that look at many Results in turn.
func (r *Result) Finished() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.finished
}

// finish publishes the outcome, its fields set.
func (r *Result) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished = true
	if r.done != nil {
		close(r.done)
	}
}

// Wait waits for the outcome and returns Err, or ctx's error if ctx ends
// first (the record goes on regardless).
func (r *Result) Wait(ctx context.Context) error {
	select {
	case <-r.Done():
		return r.Err
	case <-ctx.Done():
		return ctx.Err()
	}
}
