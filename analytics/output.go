package analytics

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/firehose"
)

// outputTries is how often an output puts the records of a batch that
// failed one by one (throttled, say) before it returns an error and lets
// the job retry the batch after a pause.
const outputTries = 3

// StreamOutput writes results to a stream, as JSON (see
// Result.MarshalJSON) with the result's ID as the partition key, in
// PutRecords calls of up to 500 records and 5 MiB. A consumer of the
// stream takes each result once by keeping the IDs it has seen (Dedup).
func StreamOutput[K, R any](stream shardlog.StreamAPI) Output[K, R] {
	return OutputFunc[K, R](func(ctx context.Context, results []Result[K, R]) error {
		batch := make([]shardlog.PutInput, 0, min(len(results), 500))
		size := 0
		for i, r := range results {
			data, err := json.Marshal(r)
			if err != nil {
				return fmt.Errorf("analytics: result %s: %w", r.ID, err)
			}
			if len(batch) == 500 || size+len(data)+len(r.ID) > 5<<20 {
				if err := putAll(ctx, stream, batch); err != nil {
					return err
				}
				batch, size = batch[:0], 0
			}
			batch = append(batch, shardlog.PutInput{PartitionKey: results[i].ID, Data: data})
			size += len(data) + len(r.ID)
		}
		return putAll(ctx, stream, batch)
	})
}

func putAll(ctx context.Context, stream shardlog.StreamAPI, batch []shardlog.PutInput) error {
	return putRetrying(stream.Name(), batch, func(batch []shardlog.PutInput) ([]string, error) {
		out, err := stream.PutBatch(ctx, batch)
		if err != nil {
			return nil, err
		}
		failures := make([]string, len(out.Records))
		for i, e := range out.Records {
			if e.ErrorCode != "" {
				failures[i] = e.ErrorCode + ": " + e.ErrorMessage
			}
		}
		return failures, nil
	})
}

// putRetrying puts batch, then again the entries that failed one by one
// (put says why for each: "" for none), up to outputTries times.
func putRetrying[T any](to string, batch []T, put func([]T) ([]string, error)) error {
	for try := 1; len(batch) > 0; try++ {
		failures, err := put(batch)
		if err != nil {
			return err
		}
		failed := batch[:0]
		var last string
		for i, why := range failures {
			if why != "" {
				failed = append(failed, batch[i])
				last = why
			}
		}
		if len(failed) > 0 && try == outputTries {
			return fmt.Errorf("analytics: %d results not put to %s: %s", len(failed), to, last)
		}
		batch = failed
	}
	return nil
}

// DeliveryOutput writes results to a delivery stream, one JSON line each
// (see Result.MarshalJSON), in PutRecordBatch calls of up to 500 records
// and 4 MiB. Delivery streams deliver at least once: a reader of what they
// deliver takes each result once by its ID.
func DeliveryOutput[K, R any](d *firehose.DeliveryStream) Output[K, R] {
	return OutputFunc[K, R](func(ctx context.Context, results []Result[K, R]) error {
		var batch [][]byte
		size := 0
		flush := func() error {
			err := putRetrying(d.Name(), batch, func(batch [][]byte) ([]string, error) {
				out, err := d.PutRecordBatch(ctx, batch)
				if err != nil {
					return nil, err
				}
				failures := make([]string, len(out.RequestResponses))
				for i, e := range out.RequestResponses {
					if e.ErrorCode != "" {
						failures[i] = e.ErrorCode + ": " + e.ErrorMessage
					}
				}
				return failures, nil
			})
			batch, size = batch[:0], 0
			return err
		}
		for _, r := range results {
			data, err := json.Marshal(r)
			if err != nil {
				return fmt.Errorf("analytics: result %s: %w", r.ID, err)
			}
			data = append(data, '\n')
			if len(batch) == 500 || size+len(data) > 4<<20 {
				if err := flush(); err != nil {
					return err
				}
			}
			batch = append(batch, data)
			size += len(data)
		}
		return flush()
	})
}

// Dedup keeps the IDs of results taken, so that a reader of an output
// takes each result once (see Result.ID). It forgets an ID once a result
// whose window ended more than horizon later has been seen — horizon must
// exceed how far a job's output can go back after a crash: the results of
// the windows that closed since its last snapshot. A horizon of 0 keeps
// every ID. It is safe for concurrent use.
type Dedup struct {
	horizon time.Duration

	mu     sync.Mutex
	seen   map[string]time.Time // guarded by mu: ID → window end
	newest time.Time            // guarded by mu: the latest window end seen
	pruned time.Time            // guarded by mu: when seen was last pruned, in window ends
}

// NewDedup returns a Dedup that forgets IDs past horizon (0: never).
func NewDedup(horizon time.Duration) *Dedup {
	return &Dedup{horizon: horizon, seen: map[string]time.Time{}}
}

// First reports whether id is new, and remembers it: true the first time,
// false for a result taken before.
func (d *Dedup) First(id string, end time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.seen[id]; ok {
		return false
	}
	d.seen[id] = end
	if end.After(d.newest) {
		d.newest = end
	}
	if d.horizon > 0 && d.newest.Sub(d.pruned) > d.horizon {
		cut := d.newest.Add(-d.horizon)
		for k, e := range d.seen {
			if e.Before(cut) {
				delete(d.seen, k)
			}
		}
		d.pruned = d.newest
	}
	return true
}
