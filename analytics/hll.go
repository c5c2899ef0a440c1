package analytics

import (
	"math"
	"math/bits"

	"github.com/cespare/xxhash/v2"
)

// Sketch is the accumulator of ApproxDistinct: a HyperLogLog of 2^14
// registers (a standard error of 0.81 %), which keeps the exact hashes of
// the first 10 000 distinct values — so counts up to there are exact, as
// Data Analytics' COUNT_DISTINCT_ITEMS_TUMBLING — and 16 KiB at most.
type Sketch struct {
	Hashes    map[uint64]struct{} `json:",omitempty"` // while exact: the values' hashes
	Registers []byte              `json:",omitempty"` // once past 10 000: the HyperLogLog
}

const (
	hllPrecision = 14
	hllExact     = 10000
)

// ApproxDistinct estimates the number of distinct value(event) in a window
// with a HyperLogLog (see Sketch): bounded state, exact up to 10 000
// values. Values are hashed with xxHash.
func ApproxDistinct[E any](value func(E) string) Aggregator[E, Sketch, int64] {
	return AggregateFuncs[E, Sketch, int64]{
		ZeroFunc:   func() Sketch { return Sketch{} },
		AddFunc:    func(acc Sketch, e E) Sketch { acc.add(xxhash.Sum64String(value(e))); return acc },
		MergeFunc:  func(acc, o Sketch) Sketch { return acc.merge(o) },
		ResultFunc: func(acc Sketch) int64 { return acc.estimate() },
	}
}

func (s *Sketch) add(h uint64) {
	if s.Registers != nil {
		s.set(h)
		return
	}
	if s.Hashes == nil {
		s.Hashes = map[uint64]struct{}{}
	}
	s.Hashes[h] = struct{}{}
	if len(s.Hashes) > hllExact {
		s.densify()
	}
}

func (s *Sketch) densify() {
	s.Registers = make([]byte, 1<<hllPrecision)
	for h := range s.Hashes {
		s.set(h)
	}
	s.Hashes = nil
}

func (s *Sketch) set(h uint64) {
	i := h >> (64 - hllPrecision)
	rank := byte(bits.LeadingZeros64(h<<hllPrecision|1<<(hllPrecision-1)) + 1)
	if rank > s.Registers[i] {
		s.Registers[i] = rank
	}
}

func (s Sketch) merge(o Sketch) Sketch {
	if o.Registers == nil {
		for h := range o.Hashes {
			s.add(h)
		}
		return s
	}
	if s.Registers == nil {
		s.densify()
	}
	for i, r := range o.Registers {
		if r > s.Registers[i] {
			s.Registers[i] = r
		}
	}
	return s
}

func (s Sketch) estimate() int64 {
	if s.Registers == nil {
		return int64(len(s.Hashes))
	}
	const m = 1 << hllPrecision
	sum, zeros := 0.0, 0
	for _, r := range s.Registers {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	alpha := 0.7213 / (1 + 1.079/m)
	e := alpha * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(float64(m)/float64(zeros)) // linear counting, better for small counts
	}
	return int64(math.Round(e))
}
