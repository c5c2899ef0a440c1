package analytics

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
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

// resultID hashes the job's name, the key's JSON and the window's bounds
// into 32 hex digits. scratch is reused between calls. A key that has no
// JSON (New refuses key types that have none; a NaN can still come) is
// hashed as Go prints it, which is as deterministic.
func resultID(scratch *[]byte, job string, key any, start, end int64) string {
	b := (*scratch)[:0]
	b = binary.BigEndian.AppendUint64(b, uint64(len(job)))
	b = append(b, job...)
	b = binary.BigEndian.AppendUint64(b, uint64(start))
	b = binary.BigEndian.AppendUint64(b, uint64(end))
	if kb, err := appendKeyJSON(b, key); err == nil {
		b = kb
	} else {
		b = fmt.Appendf(b, "%#v", key)
	}
	*scratch = b
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// appendKeyJSON appends the key as encoding/json writes it, without its
// cost for the common kinds of keys.
func appendKeyJSON(b []byte, key any) ([]byte, error) {
	switch k := key.(type) {
	case string:
		for i := 0; i < len(k); i++ {
			if c := k[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return appendJSON(b, key)
			}
		}
		b = append(b, '"')
		b = append(b, k...)
		return append(b, '"'), nil
	case int:
		return strconv.AppendInt(b, int64(k), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(k), 10), nil
	case int64:
		return strconv.AppendInt(b, k, 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(k), 10), nil
	case uint64:
		return strconv.AppendUint(b, k, 10), nil
	}
	return appendJSON(b, key)
}

func appendJSON(b []byte, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return b, fmt.Errorf("analytics: %T cannot be kept in a snapshot: %w", v, err)
	}
	return append(b, j...), nil
}

func unixNano(t int64) time.Time { return time.Unix(0, t).UTC() }

// An Output takes a job's results. Emit gets them in the order their
// windows closed; it returns nil once every result is taken (kept,
// written, acknowledged). After an error the job waits and calls Emit
// again with the same results, until it succeeds or the job stops: results
// are emitted at least once, and exactly once by ID (see Result.ID). The
// slice is the job's, reused once Emit returns: keep the results, not it.
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
