package analytics

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Result is the aggregate of one key's events in one window.
type Result[K, R any] struct {
	// ID names the result: the same job, key and window always give the
	// same ID, so an output that keeps the IDs it has seen (see Dedup)
	// takes each result once even when a crash makes the job emit it
	// again. Its content is fixed before it is first emitted: a result
	// emitted again is the same result.
	ID    string
	Key   K
	Start time.Time // the window's first instant
	End   time.Time // just past its last: windows are [Start, End)
	Value R
}

// resultID hashes the job's name, the key's JSON and the window's bounds.
func resultID(job string, keyJSON []byte, start, end int64) string {
	h := sha256.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(len(job)))
	h.Write(b[:])
	h.Write([]byte(job))
	binary.BigEndian.PutUint64(b[:], uint64(start))
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], uint64(end))
	h.Write(b[:])
	h.Write(keyJSON)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func unixNano(t int64) time.Time { return time.Unix(0, t).UTC() }

// An Output takes a job's results. Emit gets them in the order their
// windows closed; it returns nil once every result is taken (kept,
// written, acknowledged). After an error the job waits and calls Emit
// again with the same results, until it succeeds or the job stops: results
// are emitted at least once, and exactly once by ID (see Result.ID).
type Output[K, R any] interface {
	Emit(ctx context.Context, results []Result[K, R]) error
}

// OutputFunc is an Output that calls a function with each batch.
type OutputFunc[K, R any] func(ctx context.Context, results []Result[K, R]) error

// Emit calls f.
func (f OutputFunc[K, R]) Emit(ctx context.Context, results []Result[K, R]) error {
	return f(ctx, results)
}

// resultJSON is how results are written to streams and delivery streams.
type resultJSON[K, R any] struct {
	ID    string `json:"id"`
	Key   K      `json:"key"`
	Start string `json:"window_start"`
	End   string `json:"window_end"`
	Value R      `json:"value"`
}

// MarshalJSON writes r as the object {"id", "key", "window_start",
// "window_end", "value"}, times in RFC 3339 with nanoseconds: the form
// StreamOutput and DeliveryOutput write.
func (r Result[K, R]) MarshalJSON() ([]byte, error) {
	return json.Marshal(resultJSON[K, R]{
		ID: r.ID, Key: r.Key, Value: r.Value,
		Start: r.Start.Format(time.RFC3339Nano), End: r.End.Format(time.RFC3339Nano),
	})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (r *Result[K, R]) UnmarshalJSON(b []byte) error {
	var j resultJSON[K, R]
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	start, err := time.Parse(time.RFC3339Nano, j.Start)
	if err != nil {
		return err
	}
	end, err := time.Parse(time.RFC3339Nano, j.End)
	if err != nil {
		return err
	}
	*r = Result[K, R]{ID: j.ID, Key: j.Key, Start: start, End: end, Value: j.Value}
	return nil
}
