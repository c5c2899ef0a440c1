package seqnum

import (
	"math"
	"math/big"
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

var awsPattern = regexp.MustCompile(`^(0|[1-9]\d{0,128})$`)

func randNumber(r *rand.Rand) Number {
	return Number{Stream: r.Uint32() >> r.IntN(32), Shard: r.Uint32() >> r.IntN(32), Counter: r.Uint64() >> r.IntN(64)}
}

func TestRoundTripAndShape(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	edge := []Number{{}, {Stream: math.MaxUint32, Shard: math.MaxUint32, Counter: math.MaxUint64}, {Counter: 1}}
	for i := 0; i < 10000; i++ {
		edge = append(edge, randNumber(r))
	}
	for _, n := range edge {
		s := n.String()
		require.Len(t, s, Len)
		require.Regexp(t, awsPattern, s)
		got, err := Parse(s)
		require.NoError(t, err)
		require.Equal(t, n, got)
	}
}

// TestOrderMatchesBigInt checks the property clients rely on: numbers
// compare as their decimal strings do as big integers.
func TestOrderMatchesBigInt(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for i := 0; i < 20000; i++ {
		a, b := randNumber(r), randNumber(r)
		if r.IntN(2) == 0 {
			b.Stream, b.Shard = a.Stream, a.Shard
		}
		ba, _ := new(big.Int).SetString(a.String(), 10)
		bb, _ := new(big.Int).SetString(b.String(), 10)
		require.Equal(t, ba.Cmp(bb), a.Compare(b), "%v %v", a, b)
	}
}

func TestChildAboveParent(t *testing.T) {
	parentEnd := Number{Stream: 7, Shard: 3, Counter: math.MaxUint64}
	childStart := Number{Stream: 7, Shard: 4}
	require.Equal(t, -1, parentEnd.Compare(childStart))
}

func TestParseRejects(t *testing.T) {
	good := Number{Stream: 1, Shard: 2, Counter: 3}.String()
	for _, s := range []string{
		"", "0", "1", good[:55], good + "0",
		"5" + good[1:],                                             // wrong lead
		good[:41] + "000000000000001",                              // reserved tail
		good[:21] + "99999999999999999999" + good[41:],             // counter overflow
		"4" + "9999999999" + good[11:],                             // stream overflow
		good[:10] + "x" + good[11:],                                // not a digit
		"49546986683135544286507457936321625675700192471156785154", // a real AWS number
	} {
		_, err := Parse(s)
		require.ErrorIs(t, err, ErrSyntax, s)
	}
}

func TestValid(t *testing.T) {
	require.True(t, Valid("0"))
	require.True(t, Valid("49546986683135544286507457936321625675700192471156785154"))
	require.False(t, Valid(""))
	require.False(t, Valid("01"))
	require.False(t, Valid("1x"))
	long := make([]byte, 130)
	for i := range long {
		long[i] = '1'
	}
	require.False(t, Valid(string(long)))
	require.True(t, Valid(string(long[:129])))
}

func FuzzParse(f *testing.F) {
	f.Add(Number{Stream: 1, Shard: 2, Counter: 3}.String())
	f.Add(Number{Stream: math.MaxUint32, Shard: math.MaxUint32, Counter: math.MaxUint64}.String())
	f.Add("49546986683135544286507457936321625675700192471156785154")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		if n.String() != s {
			t.Fatalf("Parse(%q) = %v, which formats as %q", s, n, n.String())
		}
	})
}

func BenchmarkAppend(b *testing.B) {
	n := Number{Stream: 1, Shard: 2, Counter: 123456789}
	buf := make([]byte, 0, Len)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = n.Append(buf[:0])
	}
}

func BenchmarkParse(b *testing.B) {
	s := Number{Stream: 1, Shard: 2, Counter: 123456789}.String()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, _ = Parse(s)
	}
}
