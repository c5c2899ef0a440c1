package analytics

import (
	"math"
	"slices"
)

// Quantiles is the accumulator of Percentiles: a DDSketch (Masson, Rim and
// Lee, VLDB 2019) — values counted in buckets whose bounds grow
// geometrically, so any quantile it answers is within 1 % of a value of
// the window (relative error), whatever the distribution, and two sketches
// merge exactly by adding counts. Its size grows with the logarithm of the
// values' range, not with their number.
type Quantiles struct {
	Positive map[int32]int64 `json:",omitempty"` // bucket index → count, for values > 0
	Negative map[int32]int64 `json:",omitempty"` // for values < 0, by |value|
	Zeros    int64           `json:",omitempty"`
	N        int64
}

const quantileAccuracy = 0.01

var (
	quantileGamma    = (1 + quantileAccuracy) / (1 - quantileAccuracy)
	quantileLogGamma = math.Log(quantileGamma)
)

// Percentiles estimates the quantiles qs (each in [0, 1]; 0.99 is the 99th
// percentile) of value(event) over the window, within 1 % relative error
// (see Quantiles). The result has one value per q, in order; NaN values
// are ignored.
func Percentiles[E any](value func(E) float64, qs ...float64) Aggregator[E, Quantiles, []float64] {
	qs = slices.Clone(qs)
	return AggregateFuncs[E, Quantiles, []float64]{
		ZeroFunc:   func() Quantiles { return Quantiles{} },
		AddFunc:    func(acc Quantiles, e E) Quantiles { acc.add(value(e)); return acc },
		MergeFunc:  func(acc, o Quantiles) Quantiles { return acc.merge(o) },
		ResultFunc: func(acc Quantiles) []float64 { return acc.quantiles(qs) },
	}
}

func bucketOf(v float64) int32 { return int32(math.Ceil(math.Log(v) / quantileLogGamma)) }

func bucketValue(i int32) float64 {
	return 2 * math.Pow(quantileGamma, float64(i)) / (quantileGamma + 1)
}

func (q *Quantiles) add(v float64) {
	switch {
	case math.IsNaN(v):
		return
	case v > 0:
		if q.Positive == nil {
			q.Positive = map[int32]int64{}
		}
		q.Positive[bucketOf(v)]++
	case v < 0:
		if q.Negative == nil {
			q.Negative = map[int32]int64{}
		}
		q.Negative[bucketOf(-v)]++
	default:
		q.Zeros++
	}
	q.N++
}

func (q Quantiles) merge(o Quantiles) Quantiles {
	for i, n := range o.Positive {
		if q.Positive == nil {
			q.Positive = map[int32]int64{}
		}
		q.Positive[i] += n
	}
	for i, n := range o.Negative {
		if q.Negative == nil {
			q.Negative = map[int32]int64{}
		}
		q.Negative[i] += n
	}
	q.Zeros += o.Zeros
	q.N += o.N
	return q
}

// quantiles answers each of qs by walking the buckets from the least
// value up to the rank q·(N−1).
func (q Quantiles) quantiles(qs []float64) []float64 {
	out := make([]float64, len(qs))
	if q.N == 0 {
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	type bucket struct {
		value float64
		n     int64
	}
	walk := make([]bucket, 0, len(q.Negative)+len(q.Positive)+1)
	for i, n := range q.Negative {
		walk = append(walk, bucket{-bucketValue(i), n})
	}
	if q.Zeros > 0 {
		walk = append(walk, bucket{0, q.Zeros})
	}
	for i, n := range q.Positive {
		walk = append(walk, bucket{bucketValue(i), n})
	}
	slices.SortFunc(walk, func(a, b bucket) int {
		switch {
		case a.value < b.value:
			return -1
		case a.value > b.value:
			return 1
		}
		return 0
	})
	for k, p := range qs {
		rank := int64(math.Floor(min(max(p, 0), 1) * float64(q.N-1)))
		var seen int64
		for _, b := range walk {
			seen += b.n
			if seen > rank {
				out[k] = b.value
				break
			}
		}
	}
	return out
}
