package shardlog_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	ctx = context.Background()
	t0  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

// newAccount returns an account on a manual clock stopped at t0, closed when
// the test ends. Throughput limits are off unless opts turn them on.
func newAccount(t testing.TB, opts ...shardlog.Option) (*shardlog.Account, *shardlog.ManualClock) {
	t.Helper()
	clk := shardlog.NewManualClock(t0)
	a, err := shardlog.NewAccount(append([]shardlog.Option{shardlog.WithClock(clk), shardlog.WithoutLimits(),
		shardlog.WithAccountID("123456789012")}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	return a, clk
}

// newStream creates a stream in a and returns it.
func newStream(t testing.TB, a *shardlog.Account, name string, shards int) *shardlog.Stream {
	t.Helper()
	s, err := a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: name, ShardCount: shards})
	require.NoError(t, err)
	return s
}

// wirePosition is a starting position as a wire client sends it: the number
// as text, which may not be one.
func wirePosition(typ shardlog.IteratorType, seq string) shardlog.StartingPosition {
	return shardlog.StartingPosition{Type: typ, SequenceNumber: shardlog.SequenceNumberAsSent(seq)}
}

// wireOrdering is in with a SequenceNumberForOrdering as a wire client sends
// it: text, which may not be a number.
func wireOrdering(in shardlog.PutInput, seq string) shardlog.PutInput {
	in.SequenceNumberForOrdering = shardlog.SequenceNumberAsSent(seq)
	return in
}

// errOf returns the error of a call that also returns a value.
func errOf[T any](_ T, err error) error { return err }

func put(t testing.TB, s *shardlog.Stream, key, data string) shardlog.PutOutput {
	t.Helper()
	r, err := s.Put(ctx, shardlog.PutInput{PartitionKey: key, Data: []byte(data)})
	require.NoError(t, err)
	return r
}

// readShard reads a whole shard with GetRecords from TRIM_HORIZON.
func readShard(t testing.TB, s *shardlog.Stream, shardID string) []shardlog.Record {
	t.Helper()
	it, err := s.GetShardIterator(ctx, shardID, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	require.NoError(t, err)
	var out []shardlog.Record
	for it != "" {
		r, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
		require.NoError(t, err)
		out = append(out, r.Records...)
		if len(r.Records) == 0 {
			break
		}
		it = r.NextShardIterator
	}
	return out
}

// requireCode asserts err is a *shardlog.Error with code and, if message is
// not empty, exactly that message.
func requireCode(t testing.TB, err error, sentinel *shardlog.Error, message string) {
	t.Helper()
	require.ErrorIs(t, err, sentinel)
	var e *shardlog.Error
	require.ErrorAs(t, err, &e)
	if message != "" {
		require.Equal(t, message, e.Message)
	}
}

var errCanceled = context.Canceled

func contextWithCancel() (context.Context, context.CancelFunc) { return context.WithCancel(ctx) }

// orderChecker checks that the records of each key arrive exactly once and
// in the order they were written, on one read path; data is "key/index".
// It is safe for concurrent use.
type orderChecker struct {
	t        testing.TB
	name     string        // the read path, for messages
	progress chan struct{} // if set, signalled (without blocking) after each record
	mu       sync.Mutex    // guards next and n
	next     map[string]int
	n        int
}

func newOrderChecker(t testing.TB) *orderChecker {
	return &orderChecker{t: t, next: map[string]int{}}
}

func (c *orderChecker) see(data []byte) {
	key, idx, _ := strings.Cut(string(data), "/")
	i, _ := strconv.Atoi(idx)
	c.mu.Lock()
	if i != c.next[key] {
		c.t.Errorf("%s key %s: got record %d, want %d (lost, duplicated or reordered)", c.name, key, i, c.next[key])
	}
	c.next[key] = i + 1
	c.n++
	c.mu.Unlock()
	if c.progress != nil {
		select {
		case c.progress <- struct{}{}:
		default:
		}
	}
}

func (c *orderChecker) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
