package analytics

import (
	"cmp"
	"encoding/json"
	"slices"
)

// Counts is the accumulator of TopK: how often each value was seen. It is
// kept in snapshots as a sorted JSON list of pairs.
type Counts[T cmp.Ordered] map[T]int64

type countPair[T cmp.Ordered] struct {
	Value T
	Count int64
}

// MarshalJSON writes c as a list of {Value, Count}, by value.
func (c Counts[T]) MarshalJSON() ([]byte, error) {
	list := make([]countPair[T], 0, len(c))
	for v, n := range c {
		list = append(list, countPair[T]{v, n})
	}
	slices.SortFunc(list, func(a, b countPair[T]) int { return cmp.Compare(a.Value, b.Value) })
	return json.Marshal(list)
}

// UnmarshalJSON reads a list MarshalJSON wrote.
func (c *Counts[T]) UnmarshalJSON(b []byte) error {
	var list []countPair[T]
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*c = make(Counts[T], len(list))
	for _, p := range list {
		(*c)[p.Value] = p.Count
	}
	return nil
}

// Ranked is one entry of TopK's result.
type Ranked[T cmp.Ordered] struct {
	Value T
	Count int64
}

// TopK gives the k most frequent values of value(event) in the window,
// most frequent first, ties by value. It counts exactly: its state grows
// with the number of distinct values in a window.
func TopK[E any, T cmp.Ordered](k int, value func(E) T) Aggregator[E, Counts[T], []Ranked[T]] {
	return AggregateFuncs[E, Counts[T], []Ranked[T]]{
		ZeroFunc: func() Counts[T] { return Counts[T]{} },
		AddFunc: func(acc Counts[T], e E) Counts[T] {
			if acc == nil {
				acc = Counts[T]{}
			}
			acc[value(e)]++
			return acc
		},
		MergeFunc: func(acc, o Counts[T]) Counts[T] {
			if acc == nil {
				acc = make(Counts[T], len(o))
			}
			for v, n := range o {
				acc[v] += n
			}
			return acc
		},
		ResultFunc: func(acc Counts[T]) []Ranked[T] {
			all := make([]Ranked[T], 0, len(acc))
			for v, n := range acc {
				all = append(all, Ranked[T]{v, n})
			}
			slices.SortFunc(all, func(a, b Ranked[T]) int {
				if c := cmp.Compare(b.Count, a.Count); c != 0 {
					return c
				}
				return cmp.Compare(a.Value, b.Value)
			})
			return all[:min(k, len(all))]
		},
	}
}
