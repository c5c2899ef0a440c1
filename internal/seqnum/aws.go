package seqnum

import (
	"math/big"
	"strconv"
	"time"
)

// Kinesis's own sequence numbers have another layout: read in hexadecimal,
// a leading 2, the shard's creation second (9 digits), the low digit of
// the shard index, a 16-digit per-shard counter, a byte, the record's
// arrival second (9 digits), the shard index (8 digits) and a trailing
// version digit, 2 (older versions 0 and 1 differ). Kinesis accepts such a
// number as a SequenceNumberForOrdering only if it is well formed, and
// answers some malformed ones oddly; AWSVerdict judges one as Kinesis
// does, as responses recorded against AWS show.

// Verdict is Kinesis's judgment of a SequenceNumberForOrdering of its
// layout.
type Verdict int

const (
	AWSInvalid         Verdict = iota // InvalidArgumentException
	AWSValid                          // accepted
	AWSInternalFailure                // Kinesis fails internally (version 3)
)

var (
	pow124     = new(big.Int).Lsh(big.NewInt(1), 124)
	pow129     = new(big.Int).Lsh(big.NewInt(1), 129)
	pow185     = new(big.Int).Lsh(big.NewInt(1), 185)
	pow185Next = new(big.Int).Add(pow185, new(big.Int).Lsh(big.NewInt(1), 184)) // 1.5 * 2^185
)

// maxCreateSecond bounds a version-0 number's shard creation second:
// Kinesis refuses later ones (it takes any in a version-2 number).
const maxCreateSecond = 16025175000

// AWSVerdict judges s, a decimal number, as a SequenceNumberForOrdering
// of Kinesis's layout, with now as the current time.
func AWSVerdict(s string, now time.Time) Verdict {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.Sign() < 0 {
		return AWSInvalid
	}
	if n.Cmp(pow124) < 0 {
		n.Add(n, pow124)
	}
	hex := n.Text(16)
	field := func(from, to int) int64 {
		v, _ := strconv.ParseInt(hex[from:to], 16, 64)
		return v
	}
	version := -1
	switch {
	case n.Cmp(pow129) < 0:
		version = 0
	case n.Cmp(pow185) > 0 && n.Cmp(pow185Next) < 0:
		version = int(field(len(hex)-1, len(hex)))
	}
	switch version {
	case 0:
		if field(1, 10) >= maxCreateSecond {
			return AWSInvalid
		}
	case 1:
		if field(13, 22) > now.Unix() {
			return AWSInvalid
		}
	case 2:
		switch {
		case hex[11] > '7', hex[38] > '7', field(29, 38) > now.Unix():
			return AWSInvalid
		}
	case 3:
		return AWSInternalFailure
	default:
		return AWSInvalid
	}
	return AWSValid
}

// AWSShardIndex returns the shard index a version-2 number of Kinesis's
// layout carries.
func AWSShardIndex(s string) (uint32, bool) {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.Cmp(pow185) <= 0 || n.Cmp(pow185Next) >= 0 {
		return 0, false
	}
	hex := n.Text(16)
	if hex[len(hex)-1] != '2' {
		return 0, false
	}
	i, err := strconv.ParseUint(hex[38:46], 16, 32)
	return uint32(i), err == nil && i <= 0x7fffffff
}
