package analytics_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/analytics"
)

// fold adds events to an aggregator in two halves and merges them, after
// a JSON round trip of each half as a snapshot makes.
func fold[E, A, R any](t *testing.T, agg analytics.Aggregator[E, A, R], events []E) R {
	t.Helper()
	half := func(es []E) A {
		acc := agg.Zero()
		for _, e := range es {
			acc = agg.Add(acc, e)
		}
		b, err := json.Marshal(acc)
		require.NoError(t, err)
		var back A
		require.NoError(t, json.Unmarshal(b, &back))
		return back
	}
	mid := len(events) / 2
	return agg.Result(agg.Merge(agg.Merge(agg.Zero(), half(events[:mid])), half(events[mid:])))
}

func id(x float64) float64 { return x }

func TestBuiltInAggregates(t *testing.T) {
	xs := []float64{3, -1, 4, 1, 5, 9, 2, 6}
	require.Equal(t, int64(8), fold(t, analytics.Count[float64](), xs))
	require.Equal(t, 29.0, fold(t, analytics.Sum(id), xs))
	require.Equal(t, -1.0, fold(t, analytics.Min(id), xs))
	require.Equal(t, 9.0, fold(t, analytics.Max(id), xs))
	require.Equal(t, 29.0/8, fold(t, analytics.Avg(id), xs))
	require.True(t, math.IsNaN(analytics.Avg(id).Result(analytics.Mean{})))
	require.True(t, math.IsNaN(analytics.Min(id).Result(analytics.Extreme{})))

	words := []string{"a", "b", "a", "c", "b", "a", "d"}
	self := func(s string) string { return s }
	require.Equal(t, int64(4), fold(t, analytics.Distinct(self), words))
	require.Equal(t, []analytics.Ranked[string]{{Value: "a", Count: 3}, {Value: "b", Count: 2}},
		fold(t, analytics.TopK(2, self), words))
	require.Len(t, fold(t, analytics.TopK(10, self), words), 4, "fewer values than k")
}

// TestApproxDistinct: exact up to 10 000 values, then within a few
// standard errors (0.81 %) of the truth; merging is a union.
func TestApproxDistinct(t *testing.T) {
	agg := analytics.ApproxDistinct(func(s string) string { return s })
	for _, n := range []int{0, 1, 9999, 10000, 10001, 50000, 300000} {
		values := make([]string, 0, 2*n)
		for i := range n {
			values = append(values, fmt.Sprint("user-", i), fmt.Sprint("user-", i)) // each twice
		}
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(values), func(i, j int) { values[i], values[j] = values[j], values[i] })
		got := fold(t, agg, values)
		if n <= 10000 {
			require.Equal(t, int64(n), got, "exact up to 10 000")
			continue
		}
		require.InEpsilon(t, float64(n), float64(got), 4*0.0081, "n=%d", n)
	}
}

// TestPercentiles: every quantile within 1 % of the true one, for values
// spread over many orders of magnitude, negative ones and zeros.
func TestPercentiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var xs []float64
	for range 20000 {
		xs = append(xs, math.Exp(rng.NormFloat64()*3))
	}
	for range 1000 {
		xs = append(xs, -rng.Float64()*100, 0)
	}
	qs := []float64{0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1}
	got := fold(t, analytics.Percentiles(id, qs...), xs)
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	for i, q := range qs {
		want := sorted[int(math.Floor(q*float64(len(sorted)-1)))]
		require.InDelta(t, want, got[i], math.Abs(want)*0.0101, "q=%v", q)
	}
	empty := analytics.Percentiles(id, 0.5).Result(analytics.Quantiles{})
	require.True(t, math.IsNaN(empty[0]))
}
