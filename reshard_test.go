package shardlog_test

import (
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog"
)

const maxHash = "340282366920938463463374607431768211455"

func listAll(t testing.TB, s *shardlog.Stream, f shardlog.ShardFilter) []shardlog.Shard {
	t.Helper()
	var out []shardlog.Shard
	in := shardlog.ListShardsInput{ShardFilter: f}
	for {
		page, err := s.ListShards(ctx, in)
		require.NoError(t, err)
		out = append(out, page.Shards...)
		if page.NextToken == "" {
			return out
		}
		in = shardlog.ListShardsInput{NextToken: page.NextToken}
	}
}

func ids(shards []shardlog.Shard) []string {
	var out []string
	for _, sh := range shards {
		out = append(out, sh.ShardID)
	}
	return out
}

func bigOf(s string) *big.Int { b, _ := new(big.Int).SetString(s, 10); return b }

func TestSplitShard(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	before, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("parent"), ExplicitHashKey: "5000"})
	require.NoError(t, err)
	require.Equal(t, shard0, before.ShardID)
	clk.Advance(time.Second)

	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "1000"})))
	shards := listAll(t, s, shardlog.ShardFilter{})
	require.Equal(t, []string{shard0, "shardId-000000000001", "shardId-000000000002", "shardId-000000000003"}, ids(shards))
	parent, lo, hi := shards[0], shards[2], shards[3]
	require.NotEmpty(t, parent.SequenceNumberRange.EndingSequenceNumber)
	require.Equal(t, shardlog.HashKeyRange{StartingHashKey: "0", EndingHashKey: "999"}, lo.HashKeyRange)
	require.Equal(t, shardlog.HashKeyRange{StartingHashKey: "1000", EndingHashKey: "170141183460469231731687303715884105727"}, hi.HashKeyRange)
	require.Equal(t, shard0, lo.ParentShardID)
	require.Equal(t, shard0, hi.ParentShardID)
	require.Empty(t, lo.AdjacentParentShardID)
	require.Empty(t, shards[1].SequenceNumberRange.EndingSequenceNumber)
	require.Equal(t, -1, bigOf(parent.SequenceNumberRange.EndingSequenceNumber.String()).Cmp(bigOf(lo.SequenceNumberRange.StartingSequenceNumber.String())),
		"every child number exceeds every parent number")

	after, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("child"), ExplicitHashKey: "5000"})
	require.NoError(t, err)
	require.Equal(t, hi.ShardID, after.ShardID)
	require.Equal(t, -1, bigOf(before.SequenceNumber.String()).Cmp(bigOf(after.SequenceNumber.String())))
	sum, err := s.DescribeStreamSummary(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, sum.OpenShardCount)

	// The parent stays readable; its end gives no iterator and the children.
	it := iterator(t, s, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	require.NoError(t, err)
	require.Len(t, out.Records, 1)
	require.NotEmpty(t, out.NextShardIterator)
	out, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: out.NextShardIterator})
	require.NoError(t, err)
	require.Empty(t, out.Records)
	require.Empty(t, out.NextShardIterator)
	require.Equal(t, []shardlog.ChildShard{
		{ShardID: lo.ShardID, ParentShards: []string{shard0}, HashKeyRange: lo.HashKeyRange},
		{ShardID: hi.ShardID, ParentShards: []string{shard0}, HashKeyRange: hi.HashKeyRange},
	}, out.ChildShards)

	// Iterators can still be made on the closed shard, from its numbers too.
	latest := iterator(t, s, shardlog.StartingPosition{Type: shardlog.Latest})
	out, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: latest})
	require.NoError(t, err)
	require.Empty(t, out.NextShardIterator)
	require.Len(t, out.ChildShards, 2)
	end := iterator(t, s, shardlog.StartingPosition{Type: shardlog.AtSequenceNumber, SequenceNumber: parent.SequenceNumberRange.EndingSequenceNumber})
	out, err = s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: end})
	require.NoError(t, err)
	require.Len(t, out.ChildShards, 2)
}

func TestSplitShardErrors(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithShardLimit(3))
	s := newStream(t, a, "s", 2)
	for _, tc := range []struct {
		name, shard, key string
		code             *shardlog.Error
		detail           string
	}{
		{"unknown shard", "shardId-000000000007", "5", shardlog.ErrResourceNotFound,
			"Could not find shard shardId-000000000007 in stream s under account 123456789012."},
		{"bad shard id", "shard/0", "5", shardlog.ErrValidation, ""},
		{"key not a number", shard0, "x", shardlog.ErrValidation, ""},
		{"key with leading zero", shard0, "05", shardlog.ErrValidation, ""},
		{"key above 2^128-1", shard0, "340282366920938463463374607431768211456", shardlog.ErrInvalidArgument,
			"NewStartingHashKey 340282366920938463463374607431768211456 used in SplitShard() on shard shardId-000000000000 in stream s under account 123456789012 is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey 170141183460469231731687303715884105727."},
		{"key at start+1", shard0, "1", shardlog.ErrInvalidArgument,
			"NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000000 in stream s under account 123456789012 is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey 170141183460469231731687303715884105727."},
		{"key at end", shard0, "170141183460469231731687303715884105727", shardlog.ErrInvalidArgument, ""},
		{"key outside the shard", shard0, maxHash, shardlog.ErrInvalidArgument, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireCode(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: tc.shard, NewStartingHashKey: tc.key})), tc.code, tc.detail)
		})
	}
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "2"})), "start+2 is the lowest key allowed")
	requireCode(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "100"})), shardlog.ErrResourceNotFound, "Could not find shard shardId-000000000000 in stream s under account 123456789012.")
	_, err := s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "shardId-000000000001", NewStartingHashKey: "170141183460469231731687303715884105730"})
	requireCode(t, err, shardlog.ErrLimitExceeded, "")
	require.Contains(t, err.Error(), "Current shard count for the account: 3. Limit: 3. Number of additional shards that would have resulted from this request: 1.")
	requireCode(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "shardId-000000000001", NewStartingHashKey: "5"})), shardlog.ErrLimitExceeded, "") // before the key
	require.Len(t, listAll(t, s, shardlog.ShardFilter{}), 4, "failed splits change nothing")
}

func TestReshardWhileUpdating(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithDelays(shardlog.Delays{Update: 30 * time.Second}))
	s := newStream(t, a, "s", 2)
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "1000"})))
	sum, err := s.DescribeStreamSummary(ctx)
	require.NoError(t, err)
	require.Equal(t, shardlog.StatusUpdating, sum.StreamStatus)
	requireCode(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: "shardId-000000000002", AdjacentShardToMerge: "shardId-000000000003"})), shardlog.ErrResourceInUse,
		"Stream s under account 123456789012 not ACTIVE, instead in state UPDATING")
	_, err = s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 2, ScalingType: shardlog.UniformScaling})
	requireCode(t, err, shardlog.ErrResourceInUse, "")
	requireCode(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "shardId-000000000001", NewStartingHashKey: "170141183460469231731687303715884105730"})), shardlog.ErrResourceInUse, "")

	// The input is checked before the state, as Kinesis does: a shard
	// that is not there (or closed) is not found, a key or a pair it
	// refuses is invalid, while the stream is UPDATING.
	requireCode(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "shardId-000000000009", NewStartingHashKey: "5"})), shardlog.ErrResourceNotFound, "")
	requireCode(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "5"})), shardlog.ErrResourceNotFound,
		"Could not find shard shardId-000000000000 in stream s under account 123456789012.") // closed
	requireCode(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "shardId-000000000001", NewStartingHashKey: "340282366920938463463374607431768211456"})), shardlog.ErrInvalidArgument,
		"NewStartingHashKey 340282366920938463463374607431768211456 used in SplitShard() on shard shardId-000000000001 in stream s under account 123456789012 is not both greater than one plus the shard's StartingHashKey 170141183460469231731687303715884105728 and less than the shard's EndingHashKey 340282366920938463463374607431768211455.")
	requireCode(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: "shardId-000000000001", NewStartingHashKey: "5"})), shardlog.ErrInvalidArgument, "")
	requireCode(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: "shardId-000000000009", AdjacentShardToMerge: "shardId-000000000003"})), shardlog.ErrResourceNotFound, "")
	requireCode(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: "shardId-000000000002", AdjacentShardToMerge: "shardId-000000000001"})), shardlog.ErrInvalidArgument,
		"Shards shardId-000000000002 and shardId-000000000001 in stream s under account 123456789012 are not an adjacent pair of shards eligible for merging")
	requireCode(t, s.DecreaseStreamRetentionPeriod(ctx, 48*time.Hour), shardlog.ErrInvalidArgument,
		"Requested retention period (48 hours) for stream s can not be longer than existing retention period (24 hours). Use IncreaseRetentionPeriod API.")
	requireCode(t, s.IncreaseStreamRetentionPeriod(ctx, 48*time.Hour), shardlog.ErrResourceInUse, "")
	_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("writes work while UPDATING"), ExplicitHashKey: "5000"})
	require.NoError(t, err)
	require.Len(t, readShard(t, s, "shardId-000000000003"), 1)
	clk.Advance(30 * time.Second)
	require.NoError(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: "shardId-000000000002", AdjacentShardToMerge: "shardId-000000000003"})))
}

func TestMergeShards(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 3)
	requireCode(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: shard0, AdjacentShardToMerge: "shardId-000000000002"})), shardlog.ErrInvalidArgument,
		"Shards shardId-000000000000 and shardId-000000000002 in stream s under account 123456789012 are not an adjacent pair of shards eligible for merging")
	requireCode(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: shard0, AdjacentShardToMerge: shard0})), shardlog.ErrInvalidArgument, "")
	requireCode(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: "shardId-000000000002", AdjacentShardToMerge: shard0})), shardlog.ErrInvalidArgument, "") // the ends do not wrap around
	requireCode(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: shard0, AdjacentShardToMerge: "shardId-000000000009"})), shardlog.ErrResourceNotFound, "")
	requireCode(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: "bad id", AdjacentShardToMerge: shard0})), shardlog.ErrValidation, "")

	// Either order is adjacent; the child records which was which.
	require.NoError(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: "shardId-000000000002", AdjacentShardToMerge: "shardId-000000000001"})))
	shards := listAll(t, s, shardlog.ShardFilter{})
	child := shards[3]
	require.Equal(t, "shardId-000000000003", child.ShardID)
	require.Equal(t, "shardId-000000000002", child.ParentShardID)
	require.Equal(t, "shardId-000000000001", child.AdjacentParentShardID)
	require.Equal(t, shards[1].HashKeyRange.StartingHashKey, child.HashKeyRange.StartingHashKey)
	require.Equal(t, maxHash, child.HashKeyRange.EndingHashKey)
	require.NotEmpty(t, shards[1].SequenceNumberRange.EndingSequenceNumber)
	require.NotEmpty(t, shards[2].SequenceNumberRange.EndingSequenceNumber)
	requireCode(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: shard0, AdjacentShardToMerge: "shardId-000000000001"})), shardlog.ErrResourceNotFound, "Could not find shard shardId-000000000001 in stream s under account 123456789012.") // closed

	it, err := s.GetShardIterator(ctx, "shardId-000000000001", shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	require.NoError(t, err)
	out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	require.NoError(t, err)
	require.Equal(t, []shardlog.ChildShard{{ShardID: child.ShardID, ParentShards: []string{"shardId-000000000002", "shardId-000000000001"}, HashKeyRange: child.HashKeyRange}}, out.ChildShards)
}

// checkLineage asserts the invariants of a stream's shard tree: the open
// shards tile [0, 2^128-1] without gap or overlap, no shard has more than
// two parents, and each child's range is covered by its parents' ranges.
func checkLineage(t testing.TB, s *shardlog.Stream) []shardlog.Shard {
	t.Helper()
	all := listAll(t, s, shardlog.ShardFilter{})
	byID := map[string]shardlog.Shard{}
	for _, sh := range all {
		byID[sh.ShardID] = sh
	}
	open := listAll(t, s, shardlog.ShardFilter{Type: shardlog.FilterAtLatest})
	next := big.NewInt(0)
	sorted := append([]shardlog.Shard(nil), open...)
	for i := range sorted {
		for j := i + 1; j < len(sorted); j++ {
			if bigOf(sorted[j].HashKeyRange.StartingHashKey).Cmp(bigOf(sorted[i].HashKeyRange.StartingHashKey)) < 0 {
				sorted[i], sorted[j] = sorted[j], sorted[i]
			}
		}
	}
	for _, sh := range sorted {
		require.Empty(t, sh.SequenceNumberRange.EndingSequenceNumber)
		require.Equal(t, next.String(), sh.HashKeyRange.StartingHashKey, "open shards tile the hash space")
		next = new(big.Int).Add(bigOf(sh.HashKeyRange.EndingHashKey), big.NewInt(1))
	}
	require.Equal(t, new(big.Int).Lsh(big.NewInt(1), 128).String(), next.String())
	for _, sh := range all {
		if sh.ParentShardID == "" {
			require.Empty(t, sh.AdjacentParentShardID)
			continue
		}
		lo, hi := bigOf(sh.HashKeyRange.StartingHashKey), bigOf(sh.HashKeyRange.EndingHashKey)
		covered := func(k *big.Int) bool {
			for _, pid := range []string{sh.ParentShardID, sh.AdjacentParentShardID} {
				p, ok := byID[pid]
				if ok && bigOf(p.HashKeyRange.StartingHashKey).Cmp(k) <= 0 && k.Cmp(bigOf(p.HashKeyRange.EndingHashKey)) <= 0 {
					return true
				}
			}
			return false
		}
		if _, listed := byID[sh.ParentShardID]; !listed {
			continue // the parent expired; the child keeps its ID, as on AWS
		}
		require.True(t, covered(lo) && covered(hi), "shard %s range is covered by its parents", sh.ShardID)
		if sh.AdjacentParentShardID != "" {
			p, q := byID[sh.ParentShardID], byID[sh.AdjacentParentShardID]
			span := new(big.Int).Add(new(big.Int).Sub(bigOf(p.HashKeyRange.EndingHashKey), bigOf(p.HashKeyRange.StartingHashKey)),
				new(big.Int).Sub(bigOf(q.HashKeyRange.EndingHashKey), bigOf(q.HashKeyRange.StartingHashKey)))
			require.Equal(t, new(big.Int).Sub(hi, lo).String(), new(big.Int).Add(span, big.NewInt(1)).String(), "a merge child is exactly its parents")
		}
	}
	return open
}

func TestUpdateShardCountUniform(t *testing.T) {
	a, _ := newAccount(t)
	s := newStream(t, a, "s", 3)
	for _, target := range []int{4, 8, 5, 3, 6, 12, 7, 4, 2, 1} {
		out, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: target, ScalingType: shardlog.UniformScaling})
		require.NoError(t, err, "to %d", target)
		require.Equal(t, target, out.TargetShardCount)
		require.Equal(t, "s", out.StreamName)
		open := checkLineage(t, s)
		require.Len(t, open, target)
		step := new(big.Int).Quo(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(int64(target)))
		starts := map[string]bool{}
		for _, sh := range open {
			starts[sh.HashKeyRange.StartingHashKey] = true
		}
		for i := 0; i < target; i++ {
			require.True(t, starts[new(big.Int).Mul(step, big.NewInt(int64(i))).String()], "target %d shard %d starts where CreateStream would", target, i)
		}
	}
	sum, err := s.DescribeStreamSummary(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, sum.OpenShardCount)
}

func TestUpdateShardCountLimits(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithShardLimit(40))
	s := newStream(t, a, "s", 4)
	for _, tc := range []struct {
		target  int
		scaling shardlog.ScalingType
		code    *shardlog.Error
		detail  string
	}{
		{9, "", shardlog.ErrLimitExceeded, "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 4 Target shard count: 9"},
		{1, "", shardlog.ErrLimitExceeded, "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: 4 Target shard count: 1"},
		{0, "", shardlog.ErrValidation, ""},
		{4, "SPLIT", shardlog.ErrValidation, ""},
	} {
		_, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: tc.target, ScalingType: tc.scaling})
		requireCode(t, err, tc.code, tc.detail)
	}
	// Ten operations in a rolling 24 hours, the eleventh fails.
	targets := []int{8, 4}
	for i := 0; i < 10; i++ {
		_, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: targets[i%2], ScalingType: shardlog.UniformScaling})
		require.NoError(t, err, "operation %d", i+1)
		clk.Advance(time.Hour)
	}
	_, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 8, ScalingType: shardlog.UniformScaling})
	requireCode(t, err, shardlog.ErrLimitExceeded, "Exceeded the limit of 10 UpdateShardCount operations in a rolling 24-hour period for stream s under account 123456789012.")
	clk.Advance(13*time.Hour + 59*time.Minute) // 23h59m after the first
	_, err = s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 8, ScalingType: shardlog.UniformScaling})
	requireCode(t, err, shardlog.ErrLimitExceeded, "")
	clk.Advance(time.Minute)
	_, err = s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 8, ScalingType: shardlog.UniformScaling})
	require.NoError(t, err, "the first operation left the window")

	// The account's shard limit applies to the target.
	b, _ := newAccount(t, shardlog.WithShardLimit(10))
	u := newStream(t, b, "u", 6)
	_, err = u.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 11, ScalingType: shardlog.UniformScaling})
	requireCode(t, err, shardlog.ErrLimitExceeded, "")
	_, err = u.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 10, ScalingType: shardlog.UniformScaling})
	require.NoError(t, err)
}

// TestRandomReshardsKeepInvariants is the property test: any sequence of
// splits, merges and shard-count updates keeps the tree well-formed.
func TestRandomReshardsKeepInvariants(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		a, clk := newAccount(t)
		s := newStream(t, a, "s", 1+int(seed%5))
		r := rand.New(rand.NewPCG(seed, 7))
		for op := 0; op < 30; op++ {
			open := listAll(t, s, shardlog.ShardFilter{Type: shardlog.FilterAtLatest})
			switch r.IntN(3) {
			case 0:
				sh := open[r.IntN(len(open))]
				lo, hi := bigOf(sh.HashKeyRange.StartingHashKey), bigOf(sh.HashKeyRange.EndingHashKey)
				width := new(big.Int).Sub(hi, lo)
				if width.Cmp(big.NewInt(4)) < 0 {
					continue
				}
				// A random offset in [0, width-2): 64 random bits scaled down.
				off := new(big.Int).Mul(new(big.Int).Sub(width, big.NewInt(2)), new(big.Int).SetUint64(r.Uint64()))
				off.Rsh(off, 64)
				key := new(big.Int).Add(lo, new(big.Int).Add(off, big.NewInt(2)))
				require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: sh.ShardID, NewStartingHashKey: key.String()})))
			case 1:
				if len(open) < 2 {
					continue
				}
				i := r.IntN(len(open))
				for j := range open {
					if bigOf(open[i].HashKeyRange.EndingHashKey).Cmp(new(big.Int).Sub(bigOf(open[j].HashKeyRange.StartingHashKey), big.NewInt(1))) == 0 {
						require.NoError(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: open[j].ShardID, AdjacentShardToMerge: open[i].ShardID})))
						break
					}
				}
			case 2:
				lo, hi := (len(open)+1)/2, min(2*len(open), 30)
				_, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: lo + r.IntN(hi-lo+1), ScalingType: shardlog.UniformScaling})
				require.NoError(t, err)
				clk.Advance(3 * time.Hour)
			}
			checkLineage(t, s)
		}
	}
}

func TestListShardsFilters(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 2)
	clk.Advance(time.Hour)
	tSplit := clk.Now()
	require.NoError(t, errOf(s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shard0, NewStartingHashKey: "1000"}))) // 0 -> 2, 3
	clk.Advance(time.Hour)
	tMerge := clk.Now()
	require.NoError(t, errOf(s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: "shardId-000000000003", AdjacentShardToMerge: "shardId-000000000001"}))) // 3 + 1 -> 4
	clk.Advance(time.Hour)

	for _, tc := range []struct {
		f    shardlog.ShardFilter
		want []string
	}{
		{shardlog.ShardFilter{}, []string{"0", "1", "2", "3", "4"}},
		{shardlog.ShardFilter{Type: shardlog.FilterFromTrimHorizon}, []string{"0", "1", "2", "3", "4"}},
		{shardlog.ShardFilter{Type: shardlog.FilterAtLatest}, []string{"2", "4"}},
		{shardlog.ShardFilter{Type: shardlog.FilterAtTrimHorizon}, []string{"0", "1"}},
		{shardlog.ShardFilter{Type: shardlog.FilterAtTimestamp, Timestamp: tSplit.Add(-time.Millisecond)}, []string{"0", "1"}},
		{shardlog.ShardFilter{Type: shardlog.FilterAtTimestamp, Timestamp: tSplit}, []string{"0", "1", "2", "3"}}, // 0 closed at that instant
		{shardlog.ShardFilter{Type: shardlog.FilterAtTimestamp, Timestamp: tSplit.Add(time.Millisecond)}, []string{"1", "2", "3"}},
		{shardlog.ShardFilter{Type: shardlog.FilterAtTimestamp, Timestamp: tMerge.Add(time.Millisecond)}, []string{"2", "4"}},
		{shardlog.ShardFilter{Type: shardlog.FilterAtTimestamp, Timestamp: t0.Add(-time.Hour)}, []string{"0", "1"}},
		{shardlog.ShardFilter{Type: shardlog.FilterFromTimestamp, Timestamp: tSplit.Add(time.Minute)}, []string{"1", "2", "3", "4"}},
		{shardlog.ShardFilter{Type: shardlog.FilterFromTimestamp, Timestamp: tMerge.Add(time.Minute)}, []string{"2", "4"}},
		{shardlog.ShardFilter{Type: shardlog.FilterAfterShardID, ShardID: "shardId-000000000002"}, []string{"3", "4"}},
	} {
		var got []string
		for _, id := range ids(listAll(t, s, tc.f)) {
			got = append(got, id[len(id)-1:])
		}
		require.Equal(t, tc.want, got, "%+v", tc.f)
	}
}

func TestListShardsPagingAndErrors(t *testing.T) {
	a, clk := newAccount(t)
	s := newStream(t, a, "s", 5)
	page, err := a.ListShards(ctx, shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "s"}, MaxResults: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"shardId-000000000000", "shardId-000000000001"}, ids(page.Shards))
	page, err = a.ListShards(ctx, shardlog.ListShardsInput{NextToken: page.NextToken, MaxResults: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"shardId-000000000002", "shardId-000000000003"}, ids(page.Shards))
	last, err := a.ListShards(ctx, shardlog.ListShardsInput{NextToken: page.NextToken, MaxResults: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"shardId-000000000004"}, ids(last.Shards))
	require.Empty(t, last.NextToken)

	page, err = a.ListShards(ctx, shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamARN: s.ARN()}, ExclusiveStartShardID: "shardId-000000000003"})
	require.NoError(t, err)
	require.Equal(t, []string{"shardId-000000000004"}, ids(page.Shards))

	first, err := a.ListShards(ctx, shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "s"}, MaxResults: 1})
	require.NoError(t, err)
	for _, tc := range []struct {
		in     shardlog.ListShardsInput
		code   *shardlog.Error
		detail string
	}{
		{shardlog.ListShardsInput{NextToken: first.NextToken, StreamRef: shardlog.StreamRef{StreamName: "s"}}, shardlog.ErrInvalidArgument, "NextToken and StreamName cannot be provided together."},
		{shardlog.ListShardsInput{}, shardlog.ErrInvalidArgument, "Either NextToken or StreamName should be provided."},
		{shardlog.ListShardsInput{NextToken: first.NextToken, ExclusiveStartShardID: shard0}, shardlog.ErrInvalidArgument, ""},
		{shardlog.ListShardsInput{NextToken: "nonsense"}, shardlog.ErrInvalidArgument, ""},
		{shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "missing"}}, shardlog.ErrResourceNotFound, ""},
		{shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "s"}, MaxResults: 10001}, shardlog.ErrValidation, ""},
		{shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "s"}, ShardFilter: shardlog.ShardFilter{Type: "NEWEST"}}, shardlog.ErrValidation, ""},
		{shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "s"}, ShardFilter: shardlog.ShardFilter{Type: shardlog.FilterAfterShardID}}, shardlog.ErrInvalidArgument, ""},
		{shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "s"}, ShardFilter: shardlog.ShardFilter{Type: shardlog.FilterAtTimestamp}}, shardlog.ErrInvalidArgument, ""},
		{shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "s"}, ShardFilter: shardlog.ShardFilter{Type: shardlog.FilterFromTimestamp}}, shardlog.ErrInvalidArgument, ""},
		{shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "s"}, StreamCreationTimestamp: t0.Add(time.Second)}, shardlog.ErrResourceNotFound, ""},
	} {
		_, err := a.ListShards(ctx, tc.in)
		requireCode(t, err, tc.code, tc.detail)
	}
	_, err = a.ListShards(ctx, shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "s"}, StreamCreationTimestamp: t0})
	require.NoError(t, err)

	// The token of another stream is refused by that stream's ListShards.
	other := newStream(t, a, "other", 2)
	_, err = other.ListShards(ctx, shardlog.ListShardsInput{NextToken: first.NextToken})
	requireCode(t, err, shardlog.ErrInvalidArgument, "")

	clk.Advance(300 * time.Second)
	_, err = a.ListShards(ctx, shardlog.ListShardsInput{NextToken: first.NextToken})
	require.NoError(t, err)
	clk.Advance(time.Second)
	_, err = a.ListShards(ctx, shardlog.ListShardsInput{NextToken: first.NextToken})
	requireCode(t, err, shardlog.ErrExpiredNextToken, "")
	page, err = a.ListShards(ctx, shardlog.ListShardsInput{StreamRef: shardlog.StreamRef{StreamName: "s"}, MaxResults: 10000})
	require.NoError(t, err)
	require.Len(t, page.Shards, 5)
}
