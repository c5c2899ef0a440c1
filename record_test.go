package shardlog_test

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

func TestPutValidation(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	mib := 1 << 20
	for _, tc := range []struct {
		name   string
		in     shardlog.PutInput
		code   *shardlog.Error
		detail string
	}{
		{"empty key", shardlog.PutInput{}, shardlog.ErrValidation,
			"1 validation error detected: Value at 'partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"key of 257", shardlog.PutInput{PartitionKey: strings.Repeat("k", 257)}, shardlog.ErrValidation, ""},
		{"key of 129 astral characters is 258 UTF-16 units", shardlog.PutInput{PartitionKey: strings.Repeat("😀", 129)}, shardlog.ErrValidation, ""},
		{"data over 1 MiB", shardlog.PutInput{PartitionKey: "k", Data: make([]byte, mib+1)}, shardlog.ErrValidation,
			"1 validation error detected: Value at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576"},
		{"data plus key over 1 MiB", shardlog.PutInput{PartitionKey: "kk", Data: make([]byte, mib-1)}, shardlog.ErrInvalidArgument, ""},
		{"hash key 2^128", shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: "340282366920938463463374607431768211456"}, shardlog.ErrInvalidArgument,
			"Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was 340282366920938463463374607431768211456"},
		{"hash key negative", shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: "-1"}, shardlog.ErrInvalidArgument, ""},
		{"hash key leading zero", shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: "01"}, shardlog.ErrInvalidArgument, ""},
		{"hash key not a number", shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: "abc"}, shardlog.ErrInvalidArgument, ""},
		// Version 4 in Kinesis's own layout, which Kinesis refuses.
		{"ordering number of no layout", wireOrdering(shardlog.PutInput{PartitionKey: "k"}, "49039857307708443467467104868809893875799651909875269636"), shardlog.ErrInvalidArgument,
			"ExclusiveMinimumSequenceNumber 49039857307708443467467104868809893875799651909875269636 used in PutRecord on stream s under account 123456789012 is invalid."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Put(ctx, tc.in)
			requireCode(t, err, tc.code, tc.detail)
		})
	}
	require.Empty(t, readShard(t, s, "shardId-000000000000"), "no failed put stored anything")

	// The limits themselves are accepted.
	put(t, s, strings.Repeat("k", 256), "")
	put(t, s, strings.Repeat("é", 256), "")
	put(t, s, strings.Repeat("😀", 128), "")
	_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: make([]byte, mib-1)})
	require.NoError(t, err)
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: "340282366920938463463374607431768211455"})
	require.NoError(t, err)
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", ExplicitHashKey: "0"})
	require.NoError(t, err)
}

func TestMaxRecordSizeIsConfigurable(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithMaxRecordSize(2<<20))
	s := newStream(t, a, "s", 1)
	_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: make([]byte, 2<<20-1)})
	require.NoError(t, err)
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: make([]byte, 2<<20)})
	requireCode(t, err, shardlog.ErrInvalidArgument, "")
	sum, err := s.DescribeStreamSummary(ctx)
	require.NoError(t, err)
	require.Equal(t, 2048, sum.MaxRecordSizeInKiB)
}

// TestRoutingMatchesBigIntOracle puts random keys into a 7-shard stream and
// checks each landed in the shard whose range holds MD5(key), computed with
// math/big.
func TestRoutingMatchesBigIntOracle(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 7)
	shards, err := a.ListShards(ctx, shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "s"}})
	require.NoError(t, err)
	type rng struct{ lo, hi *big.Int }
	ranges := map[string]rng{}
	for _, sh := range shards.Shards {
		lo, _ := new(big.Int).SetString(sh.HashKeyRange.StartingHashKey, 10)
		hi, _ := new(big.Int).SetString(sh.HashKeyRange.EndingHashKey, 10)
		ranges[sh.ShardID] = rng{lo, hi}
	}
	r := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 2000; i++ {
		key := fmt.Sprintf("key-%x", r.Uint64())
		res := put(t, s, key, "")
		sum := md5.Sum([]byte(key))
		h := new(big.Int).SetBytes(sum[:])
		got := ranges[res.ShardID]
		require.True(t, h.Cmp(got.lo) >= 0 && h.Cmp(got.hi) <= 0, "key %s hash %s in %s", key, h, res.ShardID)
	}
	// An explicit hash key overrides the partition key.
	for _, sh := range shards.Shards {
		for _, k := range []string{sh.HashKeyRange.StartingHashKey, sh.HashKeyRange.EndingHashKey} {
			res, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "same", ExplicitHashKey: k})
			require.NoError(t, err)
			require.Equal(t, sh.ShardID, res.ShardID)
		}
	}
}

func TestXXHashRoutingSpreadsKeys(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithHasher(shardlog.XXHash))
	s := newStream(t, a, "s", 4)
	counts := map[string]int{}
	for i := 0; i < 4000; i++ {
		first := put(t, s, fmt.Sprint("key-", i%400), "")
		counts[first.ShardID]++
	}
	require.Len(t, counts, 4)
	for id, n := range counts {
		require.Greater(t, n, 500, id)
	}
	// The same key always lands on the same shard.
	r1, r2 := put(t, s, "stable", ""), put(t, s, "stable", "")
	require.Equal(t, r1.ShardID, r2.ShardID)
}

func TestPutAssignsIncreasingNumbersAndCopiesData(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 1)
	buf := []byte("first")
	r1, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: buf})
	require.NoError(t, err)
	copy(buf, "XXXXX")
	clk.Advance(1500)
	r2 := put(t, s, "k", "second")
	require.Equal(t, "shardId-000000000000", r1.ShardID)
	require.Equal(t, -1, r1.SequenceNumber.Compare(r2.SequenceNumber))
	require.Len(t, r1.SequenceNumber.String(), 56)

	recs := readShard(t, s, r1.ShardID)
	require.Len(t, recs, 2)
	require.Equal(t, []byte("first"), recs[0].Data)
	require.Equal(t, "k", recs[0].PartitionKey)
	require.Equal(t, r1.SequenceNumber, recs[0].SequenceNumber)
	require.Equal(t, t0, recs[0].ApproximateArrivalTimestamp)
	require.Equal(t, t0.Add(1500).Truncate(1e6), recs[1].ApproximateArrivalTimestamp, "millisecond precision")
}

func TestSequenceNumberText(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	n := put(t, s, "k", "v").SequenceNumber
	parsed, err := shardlog.ParseSequenceNumber(n.String())
	require.NoError(t, err)
	require.Equal(t, n, parsed)
	text, err := n.MarshalText()
	require.NoError(t, err)
	var back shardlog.SequenceNumber
	require.NoError(t, back.UnmarshalText(text))
	require.Equal(t, n, back)
	buf := make([]byte, 0, 64)
	buf, _ = n.AppendText(buf)
	require.Equal(t, n.String(), string(buf))

	var zero shardlog.SequenceNumber
	require.True(t, zero.IsZero())
	require.Equal(t, "", zero.String())
	require.NoError(t, back.UnmarshalText(nil))
	require.True(t, back.IsZero())
	for _, bad := range []string{"", "0", "007", "12x", "-5", strings.Repeat("9", 130)} {
		_, err = shardlog.ParseSequenceNumber(bad)
		requireCode(t, err, shardlog.ErrInvalidArgument, "")
	}
}

// TestKinesisSequenceNumbers: a number Kinesis issued parses, keeps its
// text, compares with others as a big integer and names its shard, but no
// stream here takes it for one of its own.
func TestKinesisSequenceNumbers(t *testing.T) {
	const fromAWS = "49590338271490256608559692538361571095921575989136588898"
	n, err := shardlog.ParseSequenceNumber(fromAWS)
	require.NoError(t, err)
	require.Equal(t, fromAWS, n.String())
	text, err := n.MarshalText()
	require.NoError(t, err)
	require.Equal(t, fromAWS, string(text))
	var back shardlog.SequenceNumber
	require.NoError(t, back.UnmarshalText(text))
	require.Zero(t, n.Compare(back))
	require.False(t, n.IsZero())
	require.Equal(t, "shardId-000000000006", n.ShardID(), "Kinesis's layout carries the shard index (and its low digit agrees)")

	later, err := shardlog.ParseSequenceNumber("49590338271490256608559692538361571095921575989136588899")
	require.NoError(t, err)
	require.Equal(t, -1, n.Compare(later))
	short, err := shardlog.ParseSequenceNumber("7")
	require.NoError(t, err)
	require.Equal(t, 1, n.Compare(short), "compared as big integers")
	require.Equal(t, -1, shardlog.SequenceNumber{}.Compare(short))

	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	mine := put(t, s, "k", "v").SequenceNumber
	require.Equal(t, mine.String() > fromAWS, mine.Compare(n) > 0, "mixed kinds compare as decimals")
	_, err = s.GetShardIterator(ctx, "shardId-000000000000", shardlog.At(n))
	require.ErrorIs(t, err, shardlog.ErrInvalidArgument, "not a number this stream issued")
}

// TestOrderingNumbersFromAWS: a SequenceNumberForOrdering copied from
// real Kinesis, in its layout, is accepted as Kinesis accepts it; one
// Kinesis fails on internally fails here too.
func TestOrderingNumbersFromAWS(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	for _, n := range []string{"49590338271490256608559692538361571095921575989136588898", "12"} {
		r, err := s.Put(ctx, wireOrdering(shardlog.PutInput{PartitionKey: "k", Data: []byte("v")}, n))
		require.NoError(t, err, n)
		require.Equal(t, "shardId-000000000000", r.ShardID)
	}
	version3 := "49039857307708443467467104868809893875799651909875269635"
	_, err := s.Put(ctx, wireOrdering(shardlog.PutInput{PartitionKey: "k"}, version3))
	require.ErrorIs(t, err, shardlog.ErrInternalFailure)
}

func TestSequenceNumberForOrdering(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 2)
	other := newStream(t, a, "other", 2)
	first := put(t, s, "k", "1")
	r, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("2"), SequenceNumberForOrdering: first.SequenceNumber})
	require.NoError(t, err)
	require.Equal(t, 1, r.SequenceNumber.Compare(first.SequenceNumber))

	foreign := put(t, other, "k", "x").SequenceNumber
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", SequenceNumberForOrdering: foreign})
	requireCode(t, err, shardlog.ErrInvalidArgument, "ExclusiveMinimumSequenceNumber "+foreign.String()+" used in PutRecord on stream s under account 123456789012 is invalid.")

	// A number this stream has not issued yet is refused.
	n, err := shardlog.ParseSequenceNumber(first.SequenceNumber.String())
	require.NoError(t, err)
	future := strings.Replace(n.String(), "00000000000000000001000000000000000", "00000000000000009999000000000000000", 1)
	require.NotEqual(t, n.String(), future)
	_, err = s.Put(ctx, wireOrdering(shardlog.PutInput{PartitionKey: "k"}, future))
	requireCode(t, err, shardlog.ErrInvalidArgument, "")
}

func TestPutBatch(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 3)
	var in []shardlog.PutInput
	for i := 0; i < 500; i++ {
		in = append(in, shardlog.PutInput{PartitionKey: fmt.Sprint("key-", i%37), Data: []byte(fmt.Sprint(i))})
	}
	res, err := s.PutBatch(ctx, in)
	require.NoError(t, err)
	require.Zero(t, res.FailedRecordCount)
	require.Len(t, res.Records, 500)

	// Every record is where the batch says, and within a shard the request
	// order holds.
	byShard := map[string][]shardlog.BatchEntry{}
	for i, e := range res.Records {
		require.Empty(t, e.ErrorCode)
		single := put(t, s, in[i].PartitionKey, "probe")
		require.Equal(t, single.ShardID, e.ShardID, "same key, same shard")
		byShard[e.ShardID] = append(byShard[e.ShardID], e)
	}
	for id, entries := range byShard {
		recs := readShard(t, s, id)
		for i, e := range entries {
			require.Equal(t, e.SequenceNumber, recs[i].SequenceNumber)
		}
	}
}

func TestPutBatchValidation(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 1)
	_, err := s.PutBatch(ctx, nil)
	requireCode(t, err, shardlog.ErrValidation, "")
	_, err = s.PutBatch(ctx, make([]shardlog.PutInput, 501))
	requireCode(t, err, shardlog.ErrValidation,
		"1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length less than or equal to 500")

	good := shardlog.PutInput{PartitionKey: "k", Data: []byte("x")}
	_, err = s.PutBatch(ctx, []shardlog.PutInput{good, {PartitionKey: ""}})
	requireCode(t, err, shardlog.ErrValidation,
		"1 validation error detected: Value at 'records.2.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1")
	_, err = s.PutBatch(ctx, []shardlog.PutInput{good, {PartitionKey: "k", ExplicitHashKey: "x"}})
	requireCode(t, err, shardlog.ErrInvalidArgument, "")

	big := make([]shardlog.PutInput, 6)
	for i := range big {
		big[i] = shardlog.PutInput{PartitionKey: "k", Data: bytes.Repeat([]byte{1}, 1<<20-1)}
	}
	_, err = s.PutBatch(ctx, big)
	requireCode(t, err, shardlog.ErrInvalidArgument, "Records size exceeds 5 MB limit")
	_, err = s.PutBatch(ctx, big[:5])
	require.NoError(t, err, "5 records just under 1 MiB each fit in 5 MiB with their keys")

	recs := readShard(t, s, "shardId-000000000000")
	require.Len(t, recs, 5, "failed batches wrote nothing")
}
