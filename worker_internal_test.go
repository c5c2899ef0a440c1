package shardlog

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// conflictingAsks is a lease store on which the first ask for a lease
// loses to a write that came first, as when its owner renews it at the
// same moment.
type conflictingAsks struct {
	*memLeases
	asks atomic.Int32
}

func (c *conflictingAsks) Swap(ctx context.Context, table string, old *Lease, lease Lease) error {
	if old != nil && old.Successor == "" && lease.Successor != "" && c.asks.Add(1) == 1 {
		return ErrLeaseConflict
	}
	return c.memLeases.Swap(ctx, table, old, lease)
}

// TestAskLostToARenewalIsMadeAgain: a worker whose ask for a lease
// conflicted with a concurrent write asks again at once, not a pass
// (a third of the failover time) later: the group balances without the
// clock moving.
func TestAskLostToARenewalIsMadeAgain(t *testing.T) {
	clk := NewManualClock(tStart)
	a, err := NewAccount(WithClock(clk), WithoutLimits())
	require.NoError(t, err)
	defer a.Close()
	s, err := a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 2})
	require.NoError(t, err)
	store := &conflictingAsks{memLeases: NewMemoryLeaseStore().(*memLeases)}
	run := func(id string) func() {
		ctx, cancel := context.WithCancel(bg)
		done := make(chan error, 1)
		cfg := WorkerConfig{Application: "app", WorkerID: id, Leases: store, Clock: clk, FailoverTime: 3 * time.Second,
			NewProcessor: ProcessFunc(func(context.Context, ProcessRecordsInput) error { return nil })}
		go func() { done <- RunWorker(ctx, s, cfg) }()
		return func() { cancel(); require.NoError(t, <-done) }
	}
	owners := func() map[string]int {
		shards, _ := s.DescribeGroup(bg, "app", store) // none before the first worker's first pass
		out := map[string]int{}
		for _, g := range shards {
			if g.Owner != "" {
				out[g.Owner]++
			}
		}
		return out
	}
	settle := func(want map[string]int) {
		t.Helper()
		require.Eventually(t, func() bool {
			clk.Advance(0)
			got := owners()
			return len(got) == len(want) && got["A"] == want["A"] && got["B"] == want["B"]
		}, 10*time.Second, time.Millisecond)
	}
	stopA := run("A")
	defer stopA()
	settle(map[string]int{"A": 2})
	stopB := run("B")
	defer stopB()
	settle(map[string]int{"A": 1, "B": 1})
	require.GreaterOrEqual(t, store.asks.Load(), int32(2), "the ask was made again")
}
