package analytics

import (
	"cmp"
	"encoding/json"
	"math"
	"slices"
)

// An Aggregator folds a window's events of one key into an accumulator A
// and turns it into the window's result R. Zero gives the accumulator of a
// window with no events; Add adds one; Merge combines two, so that hopping
// windows are built from panes, sessions merge and state can be split —
// Merge(Zero(), a) must equal a. Add and Merge may modify and return their
// first argument; they must not keep the second.
//
// A job keeps accumulators in its snapshots as JSON: A (and R, for results
// waiting to be emitted) must survive encoding/json — exported fields, or
// MarshalJSON and UnmarshalJSON as the built-in accumulators have.
//
// A job calls its aggregator from one goroutine.
type Aggregator[E, A, R any] interface {
	Zero() A
	Add(acc A, event E) A
	Merge(acc, other A) A
	Result(acc A) R
}

// AggregateFuncs makes an Aggregator of four functions.
type AggregateFuncs[E, A, R any] struct {
	ZeroFunc   func() A
	AddFunc    func(A, E) A
	MergeFunc  func(A, A) A
	ResultFunc func(A) R
}

// Zero calls f.ZeroFunc.
func (f AggregateFuncs[E, A, R]) Zero() A { return f.ZeroFunc() }

// Add calls f.AddFunc.
func (f AggregateFuncs[E, A, R]) Add(acc A, e E) A { return f.AddFunc(acc, e) }

// Merge calls f.MergeFunc.
func (f AggregateFuncs[E, A, R]) Merge(acc, o A) A { return f.MergeFunc(acc, o) }

// Result calls f.ResultFunc.
func (f AggregateFuncs[E, A, R]) Result(acc A) R { return f.ResultFunc(acc) }

// Count counts events, as SQL's COUNT(*).
func Count[E any]() Aggregator[E, int64, int64] { return count[E]{} }

type count[E any] struct{}

func (count[E]) Zero() int64              { return 0 }
func (count[E]) Add(acc int64, _ E) int64 { return acc + 1 }
func (count[E]) Merge(acc, o int64) int64 { return acc + o }
func (count[E]) Result(acc int64) int64   { return acc }

// Sum adds value(event) over the window's events.
func Sum[E any](value func(E) float64) Aggregator[E, float64, float64] {
	return AggregateFuncs[E, float64, float64]{
		ZeroFunc:   func() float64 { return 0 },
		AddFunc:    func(acc float64, e E) float64 { return acc + value(e) },
		MergeFunc:  func(acc, o float64) float64 { return acc + o },
		ResultFunc: func(acc float64) float64 { return acc },
	}
}

// Extreme is the accumulator of Min and Max: the value found, if any.
type Extreme struct {
	Value float64
	Set   bool
}

// Min is the least value(event) of the window; NaN for a window without
// events (which a job never emits).
func Min[E any](value func(E) float64) Aggregator[E, Extreme, float64] {
	return extreme[E]{value: value, better: func(a, b float64) bool { return a < b }}
}

// Max is the greatest value(event) of the window.
func Max[E any](value func(E) float64) Aggregator[E, Extreme, float64] {
	return extreme[E]{value: value, better: func(a, b float64) bool { return a > b }}
}

type extreme[E any] struct {
	value  func(E) float64
	better func(a, b float64) bool
}

func (x extreme[E]) Zero() Extreme { return Extreme{} }
func (x extreme[E]) Add(acc Extreme, e E) Extreme {
	return x.Merge(acc, Extreme{Value: x.value(e), Set: true})
}
func (x extreme[E]) Merge(acc, o Extreme) Extreme {
	if o.Set && (!acc.Set || x.better(o.Value, acc.Value)) {
		return o
	}
	return acc
}
func (x extreme[E]) Result(acc Extreme) float64 {
	if !acc.Set {
		return math.NaN()
	}
	return acc.Value
}

// Mean is the accumulator of Avg.
type Mean struct {
	Sum float64
	N   int64
}

// Avg is the mean of value(event) over the window.
func Avg[E any](value func(E) float64) Aggregator[E, Mean, float64] {
	return AggregateFuncs[E, Mean, float64]{
		ZeroFunc:  func() Mean { return Mean{} },
		AddFunc:   func(acc Mean, e E) Mean { return Mean{acc.Sum + value(e), acc.N + 1} },
		MergeFunc: func(acc, o Mean) Mean { return Mean{acc.Sum + o.Sum, acc.N + o.N} },
		ResultFunc: func(acc Mean) float64 {
			if acc.N == 0 {
				return math.NaN()
			}
			return acc.Sum / float64(acc.N)
		},
	}
}

// Set is the accumulator of Distinct: the values seen. It is kept in
// snapshots as a sorted JSON list, so T must be an ordered type.
type Set[T cmp.Ordered] map[T]struct{}

// MarshalJSON writes s as a sorted list.
func (s Set[T]) MarshalJSON() ([]byte, error) {
	list := make([]T, 0, len(s))
	for v := range s {
		list = append(list, v)
	}
	slices.Sort(list)
	return json.Marshal(list)
}

// UnmarshalJSON reads a list MarshalJSON wrote.
func (s *Set[T]) UnmarshalJSON(b []byte) error {
	var list []T
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*s = make(Set[T], len(list))
	for _, v := range list {
		(*s)[v] = struct{}{}
	}
	return nil
}

// Distinct counts the distinct values of value(event) exactly, as SQL's
// COUNT(DISTINCT …): its state grows with the number of values. See
// ApproxDistinct for a bounded one.
func Distinct[E any, T cmp.Ordered](value func(E) T) Aggregator[E, Set[T], int64] {
	return AggregateFuncs[E, Set[T], int64]{
		ZeroFunc: func() Set[T] { return Set[T]{} },
		AddFunc: func(acc Set[T], e E) Set[T] {
			if acc == nil {
				acc = Set[T]{}
			}
			acc[value(e)] = struct{}{}
			return acc
		},
		MergeFunc: func(acc, o Set[T]) Set[T] {
			if acc == nil {
				acc = make(Set[T], len(o))
			}
			for v := range o {
				acc[v] = struct{}{}
			}
			return acc
		},
		ResultFunc: func(acc Set[T]) int64 { return int64(len(acc)) },
	}
}
