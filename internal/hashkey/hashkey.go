// Package hashkey implements Kinesis hash keys: unsigned 128-bit integers held
// in two uint64 words, with the arithmetic the engine needs to route records
// and split the hash space, and no math/big on the hot path.
package hashkey

import (
	"crypto/md5"
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
)

// Key is an unsigned 128-bit integer. The zero value is 0.
type Key struct {
	Hi, Lo uint64
}

// Max is 2^128-1, the largest hash key.
var Max = Key{Hi: ^uint64(0), Lo: ^uint64(0)}

// FromUint64 returns v as a Key.
func FromUint64(v uint64) Key { return Key{Lo: v} }

// FromMD5 returns the MD5 digest of partitionKey read as a big-endian
// unsigned integer, which is how Kinesis maps partition keys to hash keys.
func FromMD5(partitionKey string) Key {
	sum := md5.Sum([]byte(partitionKey))
	return FromBytes(sum)
}

// FromBytes reads a 16-byte big-endian integer.
func FromBytes(b [16]byte) Key {
	return Key{Hi: binary.BigEndian.Uint64(b[:8]), Lo: binary.BigEndian.Uint64(b[8:])}
}

// Cmp returns -1, 0 or +1 as k is less than, equal to or greater than o.
func (k Key) Cmp(o Key) int {
	switch {
	case k.Hi < o.Hi:
		return -1
	case k.Hi > o.Hi:
		return 1
	case k.Lo < o.Lo:
		return -1
	case k.Lo > o.Lo:
		return 1
	}
	return 0
}

// Less reports whether k < o.
func (k Key) Less(o Key) bool { return k.Hi < o.Hi || (k.Hi == o.Hi && k.Lo < o.Lo) }

// Add returns k+o and whether the sum overflowed 128 bits.
func (k Key) Add(o Key) (Key, bool) {
	lo, c := bits.Add64(k.Lo, o.Lo, 0)
	hi, c := bits.Add64(k.Hi, o.Hi, c)
	return Key{hi, lo}, c != 0
}

// Sub returns k-o and whether it borrowed (o > k).
func (k Key) Sub(o Key) (Key, bool) {
	lo, b := bits.Sub64(k.Lo, o.Lo, 0)
	hi, b := bits.Sub64(k.Hi, o.Hi, b)
	return Key{hi, lo}, b != 0
}

// Inc returns k+1, wrapping at 2^128.
func (k Key) Inc() Key { s, _ := k.Add(Key{Lo: 1}); return s }

// Dec returns k-1, wrapping at 0.
func (k Key) Dec() Key { s, _ := k.Sub(Key{Lo: 1}); return s }

// MulUint64 returns k*m and whether the product overflowed 128 bits.
func (k Key) MulUint64(m uint64) (Key, bool) {
	hiLo1, lo := bits.Mul64(k.Lo, m)
	hiHi, hiLo2 := bits.Mul64(k.Hi, m)
	hi, c := bits.Add64(hiLo1, hiLo2, 0)
	return Key{hi, lo}, hiHi != 0 || c != 0
}

// DivUint64 returns k/d and k%d. It panics if d is zero.
func (k Key) DivUint64(d uint64) (Key, uint64) {
	qHi, r := bits.Div64(0, k.Hi, d)
	qLo, r := bits.Div64(r, k.Lo, d)
	return Key{qHi, qLo}, r
}

// Step returns floor(2^128/n), the width CreateStream gives each of n shards
// (the last shard also takes the remainder). It panics if n is zero.
func Step(n uint64) Key {
	if n == 1 {
		return Max // 2^128 does not fit; one shard covers everything anyway
	}
	// floor(2^128/n) = floor((2^128-1)/n) unless n divides 2^128 exactly.
	q, r := Max.DivUint64(n)
	if r == n-1 {
		q = q.Inc()
	}
	return q
}

// Range is an inclusive range of hash keys.
type Range struct {
	Start, End Key
}

// Contains reports whether k lies in r.
func (r Range) Contains(k Key) bool { return !k.Less(r.Start) && !r.End.Less(k) }

// Uniform returns the n ranges CreateStream assigns: shard i starts at
// i*floor(2^128/n) and the last one ends at 2^128-1. It panics if n is zero.
func Uniform(n int) []Range {
	step := Step(uint64(n))
	out := make([]Range, n)
	var start Key
	for i := range out {
		out[i].Start = start
		if i == n-1 {
			out[i].End = Max
			break
		}
		start, _ = start.Add(step)
		out[i].End = start.Dec()
	}
	return out
}

// String returns k in decimal.
func (k Key) String() string {
	var buf [39]byte
	return string(k.AppendDecimal(buf[:0]))
}

// AppendDecimal appends k in decimal to b.
func (k Key) AppendDecimal(b []byte) []byte {
	if k.Hi == 0 {
		return strconv.AppendUint(b, k.Lo, 10)
	}
	// Peel off 19 decimal digits at a time.
	const chunk = 1e19
	var parts [3]uint64
	n := 0
	for k.Hi != 0 {
		var r uint64
		k, r = k.DivUint64(chunk)
		parts[n] = r
		n++
	}
	b = strconv.AppendUint(b, k.Lo, 10)
	for i := n - 1; i >= 0; i-- {
		var pad [19]byte
		d := strconv.AppendUint(pad[:0], parts[i], 10)
		for j := len(d); j < 19; j++ {
			b = append(b, '0')
		}
		b = append(b, d...)
	}
	return b
}

// ErrSyntax reports a string that is not a decimal hash key in [0, 2^128-1]
// written without leading zeros.
var ErrSyntax = errors.New("hashkey: not a decimal integer in [0, 2^128-1]")

// Parse reads a decimal hash key: "0", or 1 to 39 digits with no leading zero,
// at most 2^128-1.
func Parse(s string) (Key, error) {
	if len(s) == 0 || len(s) > 39 || (s[0] == '0' && len(s) > 1) {
		return Key{}, ErrSyntax
	}
	var k Key
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return Key{}, ErrSyntax
		}
		var o1, o2 bool
		k, o1 = k.MulUint64(10)
		k, o2 = k.Add(Key{Lo: uint64(c - '0')})
		if o1 || o2 {
			return Key{}, ErrSyntax
		}
	}
	return k, nil
}
