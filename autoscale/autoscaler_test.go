package autoscale_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/autoscale"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	ctx   = context.Background()
	quiet = slog.New(slog.DiscardHandler)
)

// limit is the per-shard write limit of these tests, in records a second:
// Kinesis's 1000 scaled down, so that hours of the clock hold few records.
const limit = 40

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func provisioned(t testing.TB, shards int, opts ...shardlog.Option) (*shardlog.Stream, *shardlog.ManualClock) {
	t.Helper()
	clk := shardlog.NewManualClock(start)
	a, err := shardlog.NewAccount(append([]shardlog.Option{shardlog.WithClock(clk), shardlog.WithLimits(shardlog.Limits{WriteRecordsPerSecond: limit})}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	s, err := a.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "s", ShardCount: shards})
	require.NoError(t, err)
	return s, clk
}

// keyAt returns the hash key at fraction f of the key space.
func keyAt(f float64) string {
	k, _ := new(big.Float).Mul(big.NewFloat(f), new(big.Float).SetInt(new(big.Int).Lsh(big.NewInt(1), 128))).Int(nil)
	if k.BitLen() > 128 {
		k.Sub(k, big.NewInt(1))
	}
	return k.String()
}

// drive writes perSecond records a second for a minute of the clock, at
// hash keys keys(i, perSecond) for i from 0, and returns how many were
// throttled.
func drive(t testing.TB, s *shardlog.Stream, clk *shardlog.ManualClock, perSecond int, keys func(i, n int) string) (throttled int) {
	t.Helper()
	batch := make([]shardlog.PutInput, perSecond)
	for i := range batch {
		batch[i] = shardlog.PutInput{PartitionKey: "k", Data: []byte("x"), ExplicitHashKey: keys(i, perSecond)}
	}
	// In an order that jumps about the key space, as a client's many keys
	// do: under throttling, the records let through are spread too.
	r := rand.New(rand.NewPCG(1, uint64(perSecond)))
	r.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
	for range 60 {
		for b := batch; len(b) > 0; {
			n := min(len(b), 500)
			out, err := s.PutBatch(ctx, b[:n])
			require.NoError(t, err)
			throttled += out.FailedRecordCount
			b = b[n:]
		}
		clk.Advance(time.Second)
	}
	return throttled
}

// even spreads the records over the key space.
func even(i, n int) string { return keyAt((float64(i) + 0.5) / float64(n)) }

// skewed puts three quarters of the records in the lowest eighth of the
// key space, the rest over the other seven eighths.
func skewed(i, n int) string {
	if i%4 != 3 {
		return keyAt(float64(i) / float64(n) / 8)
	}
	return keyAt(0.125 + 0.875*float64(i)/float64(n))
}

func utilizations(t testing.TB, s *shardlog.Stream) []float64 {
	t.Helper()
	loads, err := s.ShardLoads(ctx)
	require.NoError(t, err)
	var out []float64
	for _, l := range loads {
		out = append(out, l.WriteUtilization)
	}
	return out
}

// TestSplitsWhereTheTrafficHalves: a shard hot for three looks is split at
// the hash key that balances its skewed traffic, not at its midpoint.
func TestSplitsWhereTheTrafficHalves(t *testing.T) {
	s, clk := provisioned(t, 1)
	as, err := autoscale.New(s, autoscale.Config{Logger: quiet, Clock: clk})
	require.NoError(t, err)
	for look := 1; look <= 3; look++ {
		require.Zero(t, drive(t, s, clk, limit*9/10, skewed))
		d, err := as.Look(ctx)
		require.NoError(t, err)
		if look < 3 {
			require.Empty(t, d, "hot for %d looks only", look)
		}
	}
	got := as.Decisions()
	require.Len(t, got, 1)
	require.Equal(t, autoscale.Split, got[0].Action)
	require.Equal(t, []string{"shardId-000000000000"}, got[0].Shards)
	require.Contains(t, got[0].Reason, "halves its traffic")

	drive(t, s, clk, limit*9/10, skewed)
	u := utilizations(t, s)
	require.Len(t, u, 2)
	for _, x := range u {
		require.InDelta(t, 0.45, x, 0.15, "balanced: %v (a midpoint split gives 0.84 and 0.06)", u)
	}
	readsParentsFirst(t, s, 4*60*limit*9/10)
}

// readsParentsFirst reads the whole stream and checks that it holds want
// records, and that no parent's record follows one of its children's.
func readsParentsFirst(t *testing.T, s *shardlog.Stream, want int) {
	t.Helper()
	page, err := s.ListShards(ctx, shardlog.ListShardsInput{})
	require.NoError(t, err)
	parents := map[string][]string{}
	for _, sh := range page.Shards {
		for _, p := range []string{sh.ParentShardID, sh.AdjacentParentShardID} {
			if p != "" {
				parents[sh.ShardID] = append(parents[sh.ShardID], p)
			}
		}
	}
	done := map[string]bool{} // shards a child of which was read from
	var mark func(id string)
	mark = func(id string) {
		for _, p := range parents[id] {
			done[p] = true
			mark(p)
		}
	}
	got := 0
	for rec, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		require.NoError(t, err)
		require.False(t, done[rec.ShardID], "a record of %s after one of its child's", rec.ShardID)
		mark(rec.ShardID)
		got++
	}
	require.Equal(t, want, got)
}

// TestFlappingLoadDoesNotFlap: a load that is hot one minute and cold the
// next changes nothing.
func TestFlappingLoadDoesNotFlap(t *testing.T) {
	s, clk := provisioned(t, 2)
	as, err := autoscale.New(s, autoscale.Config{Logger: quiet, Clock: clk})
	require.NoError(t, err)
	for minute := range 20 {
		rate := 2 * limit * 9 / 10
		if minute%2 == 1 {
			rate = 2 * limit / 10
		}
		drive(t, s, clk, rate, even)
		_, err := as.Look(ctx)
		require.NoError(t, err)
	}
	require.Zero(t, as.Totals().Splits+as.Totals().Merges)
	require.Len(t, utilizations(t, s), 2)
}

// TestMergesColdNeighbours: adjacent cold shards merge, never below half
// the shards in one look, and the cool-down spaces the looks that change.
func TestMergesColdNeighbours(t *testing.T) {
	s, clk := provisioned(t, 8)
	as, err := autoscale.New(s, autoscale.Config{Logger: quiet, Clock: clk, Sustain: 2, CoolDown: 3 * time.Minute})
	require.NoError(t, err)
	var counts []int
	for range 12 {
		drive(t, s, clk, 8*limit/20, even) // 5% a shard
		_, err := as.Look(ctx)
		require.NoError(t, err)
		counts = append(counts, len(utilizations(t, s)))
	}
	require.Equal(t, []int{8, 4, 4, 4, 2, 2, 2, 1, 1, 1, 1, 1}, counts, "halving at most, every cool-down")
	readsParentsFirst(t, s, 12*60*8*limit/20)
	for _, d := range as.Decisions() {
		if d.Action == autoscale.Held {
			require.Contains(t, d.Reason, "cooling down")
		}
	}
}

// TestSplitRefusedAtTheShardLimit: the account's shard limit refuses a
// split; the decision says so, and the look stops there.
func TestSplitRefusedAtTheShardLimit(t *testing.T) {
	s, clk := provisioned(t, 2, shardlog.WithShardLimit(3))
	as, err := autoscale.New(s, autoscale.Config{Logger: quiet, Clock: clk, Sustain: 1})
	require.NoError(t, err)
	drive(t, s, clk, 2*limit*9/10, even)
	d, err := as.Look(ctx)
	require.NoError(t, err)
	require.Len(t, d, 2)
	require.Equal(t, autoscale.Split, d[0].Action)
	require.Equal(t, autoscale.Refused, d[1].Action)
	require.ErrorIs(t, d[1].Err, shardlog.ErrLimitExceeded)
	require.Len(t, utilizations(t, s), 3)
}

// fakeStream reports loads set by the test and counts reshards: the
// limits test runs days of looks, which real traffic would make slow.
type fakeStream struct {
	loads []shardlog.ShardLoad
	next  int
}

func (f *fakeStream) Name() string { return "fake" }
func (f *fakeStream) ShardLoads(context.Context) ([]shardlog.ShardLoad, error) {
	return f.loads, nil
}
func (f *fakeStream) SplitShard(_ context.Context, in shardlog.SplitShardInput) (shardlog.SplitShardOutput, error) {
	i := f.index(in.ShardToSplit)
	lo, hi := f.shard(), f.shard()
	f.loads = append(f.loads[:i], append([]shardlog.ShardLoad{lo, hi}, f.loads[i+1:]...)...)
	return shardlog.SplitShardOutput{ChildShardIDs: []string{lo.ShardID, hi.ShardID}}, nil
}
func (f *fakeStream) MergeShards(_ context.Context, in shardlog.MergeShardsInput) (shardlog.MergeShardsOutput, error) {
	i := f.index(in.ShardToMerge)
	if f.index(in.AdjacentShardToMerge) != i+1 {
		return shardlog.MergeShardsOutput{}, errors.New("not adjacent")
	}
	c := f.shard()
	f.loads = append(f.loads[:i], append([]shardlog.ShardLoad{c}, f.loads[i+2:]...)...)
	return shardlog.MergeShardsOutput{ChildShardID: c.ShardID}, nil
}
func (f *fakeStream) index(id string) int {
	for i, l := range f.loads {
		if l.ShardID == id {
			return i
		}
	}
	panic(id)
}
func (f *fakeStream) shard() shardlog.ShardLoad {
	f.next++
	return shardlog.ShardLoad{ShardID: fmt.Sprint("shard-", f.next), HashKeyRange: shardlog.HashKeyRange{StartingHashKey: "0", EndingHashKey: "1000000"}}
}

// TestLimitsAreNeverExceeded: under a load that swings at random for
// three days, with no sustain and no cool-down, the stream changes at
// most ten times in any 24 hours and never more than doubles or halves in
// one look.
func TestLimitsAreNeverExceeded(t *testing.T) {
	clk := shardlog.NewManualClock(start)
	f := &fakeStream{}
	f.loads = []shardlog.ShardLoad{f.shard(), f.shard()}
	as, err := autoscale.New(f, autoscale.Config{Logger: quiet, Clock: clk, Sustain: 1, CoolDown: time.Nanosecond})
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(1, 2))
	var changes []time.Time
	for range 3 * 24 * 60 {
		for i := range f.loads {
			f.loads[i].WriteUtilization = r.Float64() * 2 * float64(r.IntN(2))
		}
		before := len(f.loads)
		d, err := as.Look(ctx)
		require.NoError(t, err)
		after := len(f.loads)
		require.LessOrEqual(t, after, 2*before)
		require.GreaterOrEqual(t, 2*after, before)
		for _, x := range d {
			if x.Action == autoscale.Split || x.Action == autoscale.Merge {
				changes = append(changes, clk.Now())
				break
			}
		}
		clk.Advance(time.Minute)
	}
	require.Greater(t, len(changes), 20, "it did change the stream")
	for i := range changes {
		j := i
		for j < len(changes) && changes[j].Sub(changes[i]) < 24*time.Hour {
			j++
		}
		require.LessOrEqual(t, j-i, 10, "changes in the 24 hours from %v", changes[i])
	}
}

// TestRunLooksOnTheClockUntilCancelled: Run looks every minute of the
// clock and returns, leaving no goroutine, once its context ends.
func TestRunLooksOnTheClockUntilCancelled(t *testing.T) {
	clk := shardlog.NewManualClock(start)
	f := &fakeStream{}
	f.loads = []shardlog.ShardLoad{f.shard()}
	as, err := autoscale.New(f, autoscale.Config{Logger: quiet, Clock: clk})
	require.NoError(t, err)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- as.Run(rctx) }()
	for look := 1; look <= 3; look++ {
		require.NoError(t, clk.BlockUntil(ctx, 1)) // its timer
		require.Equal(t, int64(look), as.Totals().Looks)
		clk.Advance(time.Minute)
	}
	require.NoError(t, clk.BlockUntil(ctx, 1))
	cancel()
	require.NoError(t, <-done)
}

// TestBadConfigs: each bound is checked.
func TestBadConfigs(t *testing.T) {
	for _, c := range []autoscale.Config{
		{SplitAbove: 0.5, MergeBelow: 0.3},
		{SplitAbove: -1},
		{Sustain: -1},
		{MinShards: 5, MaxShards: 4},
		{CoolDown: -time.Second},
	} {
		_, err := autoscale.New(&fakeStream{}, c)
		require.ErrorIs(t, err, autoscale.ErrBadConfig, "%+v", c)
	}
}
