package hashkey

import (
	"crypto/md5"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

var two128 = new(big.Int).Lsh(big.NewInt(1), 128)

func toBig(k Key) *big.Int {
	b := new(big.Int).SetUint64(k.Hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(k.Lo))
}

func randKey(r *rand.Rand) Key {
	switch r.IntN(4) {
	case 0:
		return Key{Lo: r.Uint64()}
	case 1:
		return Key{Hi: r.Uint64() >> r.IntN(64), Lo: r.Uint64()}
	}
	return Key{Hi: r.Uint64(), Lo: r.Uint64()}
}

func TestStringAndParseMatchBigInt(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, k := range append([]Key{{}, Max, {Lo: 1}, {Hi: 1}}, func() []Key {
		var ks []Key
		for i := 0; i < 5000; i++ {
			ks = append(ks, randKey(r))
		}
		return ks
	}()...) {
		want := toBig(k).String()
		require.Equal(t, want, k.String())
		got, err := Parse(want)
		require.NoError(t, err)
		require.Equal(t, k, got)
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"", "-1", "01", "00", "1a", " 1", "340282366920938463463374607431768211456",
		"1000000000000000000000000000000000000000", "9999999999999999999999999999999999999999", "+5", "1.0"} {
		_, err := Parse(s)
		require.ErrorIs(t, err, ErrSyntax, s)
	}
	k, err := Parse("340282366920938463463374607431768211455")
	require.NoError(t, err)
	require.Equal(t, Max, k)
}

func TestFromMD5MatchesBigEndianDigest(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		key := strconv.FormatUint(r.Uint64(), 36)
		sum := md5.Sum([]byte(key))
		require.Equal(t, new(big.Int).SetBytes(sum[:]).String(), toBig(FromMD5(key)).String(), key)
	}
}

func TestArithmeticMatchesBigInt(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 5000; i++ {
		a, b := randKey(r), randKey(r)
		ba, bb := toBig(a), toBig(b)
		require.Equal(t, ba.Cmp(bb), a.Cmp(b))
		require.Equal(t, ba.Cmp(bb) < 0, a.Less(b))

		sum, over := a.Add(b)
		wantSum := new(big.Int).Add(ba, bb)
		require.Equal(t, wantSum.Cmp(two128) >= 0, over)
		require.Equal(t, new(big.Int).Mod(wantSum, two128).String(), toBig(sum).String())

		diff, borrow := a.Sub(b)
		require.Equal(t, ba.Cmp(bb) < 0, borrow)
		require.Equal(t, new(big.Int).Mod(new(big.Int).Sub(ba, bb), two128).String(), toBig(diff).String())

		m := r.Uint64() >> r.IntN(64)
		prod, over := a.MulUint64(m)
		wantProd := new(big.Int).Mul(ba, new(big.Int).SetUint64(m))
		require.Equal(t, wantProd.Cmp(two128) >= 0, over)
		require.Equal(t, new(big.Int).Mod(wantProd, two128).String(), toBig(prod).String())

		d := max(1, r.Uint64()>>r.IntN(64))
		q, rem := a.DivUint64(d)
		wq, wr := new(big.Int).QuoRem(ba, new(big.Int).SetUint64(d), new(big.Int))
		require.Equal(t, wq.String(), toBig(q).String())
		require.Equal(t, wr.Uint64(), rem)
	}
}

// TestUniformTilesLikeAWS checks CreateStream's split for N = 1..1000
// against floor(2^128/N) computed with math/big.
func TestUniformTilesLikeAWS(t *testing.T) {
	maxBig := toBig(Max)
	for n := 1; n <= 1000; n++ {
		rs := Uniform(n)
		require.Len(t, rs, n)
		step := new(big.Int).Quo(two128, big.NewInt(int64(n)))
		for i, r := range rs {
			wantStart := new(big.Int).Mul(step, big.NewInt(int64(i)))
			require.Equal(t, wantStart.String(), toBig(r.Start).String(), "n=%d i=%d", n, i)
			wantEnd := maxBig
			if i < n-1 {
				wantEnd = new(big.Int).Sub(new(big.Int).Mul(step, big.NewInt(int64(i+1))), big.NewInt(1))
			}
			require.Equal(t, wantEnd.String(), toBig(r.End).String(), "n=%d i=%d", n, i)
			if i > 0 {
				require.Equal(t, rs[i-1].End.Inc(), r.Start)
			}
		}
	}
	// The documented two-shard split.
	rs := Uniform(2)
	require.Equal(t, "170141183460469231731687303715884105727", rs[0].End.String())
	require.Equal(t, "170141183460469231731687303715884105728", rs[1].Start.String())
	require.Equal(t, "113427455640312821154458202477256070485", Step(3).String())
}

func TestRangeContains(t *testing.T) {
	r := Range{Start: FromUint64(10), End: FromUint64(20)}
	require.True(t, r.Contains(FromUint64(10)))
	require.True(t, r.Contains(FromUint64(20)))
	require.False(t, r.Contains(FromUint64(9)))
	require.False(t, r.Contains(FromUint64(21)))
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "1", "340282366920938463463374607431768211455", "340282366920938463463374607431768211456", "01", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Parse(s)
		b, ok := new(big.Int).SetString(s, 10)
		valid := ok && b.Sign() >= 0 && b.Cmp(two128) < 0 && b.String() == s
		if valid != (err == nil) {
			t.Fatalf("Parse(%q) err=%v, big says valid=%v", s, err, valid)
		}
		if err == nil && k.String() != s {
			t.Fatalf("round trip %q -> %q", s, k.String())
		}
	})
}

func BenchmarkFromMD5(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = FromMD5("partition-key-01")
	}
}
