// Package seqnum encodes sequence numbers as 56-digit decimals made of
// fixed-width, zero-padded fields, so that comparing two of them as big
// integers is the same as comparing their fields as a tuple. Encoding is
// formatting and decoding is slicing; no big-integer arithmetic is needed.
//
// Layout (56 digits):
//
//	[0]      '4'         constant, so the number has 56 significant digits
//	[1:11]   stream      the stream's incarnation (uint32)
//	[11:21]  shard       the shard index (uint32); children have larger ones
//	[21:41]  counter     the record's position in its shard, from 1 (uint64)
//	[41:56]  zeros       reserved
//
// Within a stream the incarnation is constant, so order is (shard, counter):
// every number of a child shard exceeds every number of its parents, because
// shard indexes only grow.
package seqnum

import (
	"cmp"
	"errors"
)

// Len is the number of digits of an encoded sequence number.
const Len = 56

const (
	lead      = '4'
	streamOff = 1
	shardOff  = 11
	countOff  = 21
	tailOff   = 41
)

// Number is a decoded sequence number. Numbers of one stream compare as the
// tuple (Shard, Counter).
type Number struct {
	Stream  uint32 // incarnation of the stream that issued it
	Shard   uint32 // shard index
	Counter uint64 // 0 is the shard's starting number; records count from 1
}

// Compare returns -1, 0 or +1 as n sorts before, equal to or after o.
func (n Number) Compare(o Number) int {
	switch {
	case n.Stream != o.Stream:
		return cmp.Compare(n.Stream, o.Stream)
	case n.Shard != o.Shard:
		return cmp.Compare(n.Shard, o.Shard)
	}
	return cmp.Compare(n.Counter, o.Counter)
}

// Append appends the 56-digit decimal form of n to b.
func (n Number) Append(b []byte) []byte {
	b = append(b, lead)
	b = appendPadded(b, uint64(n.Stream), shardOff-streamOff)
	b = appendPadded(b, uint64(n.Shard), countOff-shardOff)
	b = appendPadded(b, n.Counter, tailOff-countOff)
	return append(b, "000000000000000"...)
}

// String returns the 56-digit decimal form of n.
func (n Number) String() string {
	var buf [Len]byte
	return string(n.Append(buf[:0]))
}

// appendPadded appends v in width digits, zeros first; width holds every
// value of the field's type (10 digits for 32 bits, 20 for 64).
func appendPadded(b []byte, v uint64, width int) []byte {
	n := len(b)
	b = append(b, "00000000000000000000"[:width]...)
	for i := n + width - 1; v > 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

// ErrSyntax reports a string that is not a sequence number this package issued.
var ErrSyntax = errors.New("seqnum: not a sequence number issued by shardlog")

// Parse decodes s. It accepts exactly the strings Append produces.
func Parse(s string) (Number, error) {
	if len(s) != Len || s[0] != lead {
		return Number{}, ErrSyntax
	}
	for i := 1; i < Len; i++ {
		if s[i] < '0' || s[i] > '9' {
			return Number{}, ErrSyntax
		}
	}
	for i := tailOff; i < Len; i++ {
		if s[i] != '0' {
			return Number{}, ErrSyntax
		}
	}
	stream, ok1 := field(s[streamOff:shardOff], 1<<32-1)
	shard, ok2 := field(s[shardOff:countOff], 1<<32-1)
	counter, ok3 := field(s[countOff:tailOff], ^uint64(0))
	if !ok1 || !ok2 || !ok3 {
		return Number{}, ErrSyntax
	}
	return Number{Stream: uint32(stream), Shard: uint32(shard), Counter: counter}, nil
}

// field parses an all-digit string, reporting false above max or on overflow.
func field(s string, max uint64) (uint64, bool) {
	var v uint64
	for i := 0; i < len(s); i++ {
		d := uint64(s[i] - '0')
		if v > (max-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// Valid reports whether s matches Kinesis's SequenceNumber pattern: "0", or 1
// to 129 digits without a leading zero. It says nothing of who issued s.
func Valid(s string) bool {
	if len(s) == 0 || len(s) > 129 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
