package shardlog

import (
	"fmt"
	"testing"
	"time"

	"github.com/shardlog/shardlog/internal/hashkey"
	"github.com/stretchr/testify/require"
)

// TestShardLoadsNameTheHotKey: ShardLoads tells which shard is busy, how
// busy against its limits, and which partition key makes it so, for the
// last full minute of the clock.
func TestShardLoadsNameTheHotKey(t *testing.T) {
	clk := NewManualClock(tStart.Truncate(time.Minute))
	ring := NewKeyRing()
	require.NoError(t, ring.AddKey("load-key", make([]byte, 32)))
	a, err := NewAccount(WithClock(clk), WithKeyRing(ring))
	require.NoError(t, err)
	defer a.Close()
	s, err := a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 2})
	require.NoError(t, err)
	require.NoError(t, s.StartStreamEncryption(bg, EncryptionKMS, "load-key"), "keys are counted before they are sealed")
	hot := ""
	for i := 0; hot == ""; i++ { // a key of the first shard
		if k := fmt.Sprint("user-", i); hashkey.FromMD5(k).Less(hashkey.Key{Hi: 1 << 63}) { // the first shard's
			hot = k
		}
	}
	firstHalf := hashkey.Key{Hi: 1 << 63}
	batch := make([]PutInput, 0, 500)
	var records, bytes int64 // of the first shard
	for i := range 1000 {
		key := hot
		if i%2 == 1 {
			key = fmt.Sprint("other-", i) // each once
		}
		if hashkey.FromMD5(key).Less(firstHalf) {
			records, bytes = records+1, bytes+int64(len(key)+100)
		}
		batch = append(batch, PutInput{PartitionKey: key, Data: make([]byte, 100)})
		if len(batch) == cap(batch) {
			out, err := s.PutBatch(bg, batch)
			require.NoError(t, err)
			require.Zero(t, out.FailedRecordCount)
			batch = batch[:0]
		}
	}
	it, err := s.GetShardIterator(bg, "shardId-000000000000", StartingPosition{Type: TrimHorizon})
	require.NoError(t, err)
	read, err := s.GetRecords(bg, GetRecordsInput{ShardIterator: it})
	require.NoError(t, err)

	loads, err := s.ShardLoads(bg)
	require.NoError(t, err)
	require.Zero(t, loads[0].WriteRecords, "the minute is not over")

	clk.Advance(time.Minute)
	loads, err = s.ShardLoads(bg)
	require.NoError(t, err)
	require.Len(t, loads, 2)
	l := loads[0]
	require.Equal(t, "shardId-000000000000", l.ShardID)
	require.Equal(t, tStart.Truncate(time.Minute), l.Minute)
	require.Equal(t, records, l.WriteRecords)
	require.Equal(t, bytes, l.WriteBytes)
	require.Equal(t, 1000-records, loads[1].WriteRecords)
	require.Equal(t, int64(len(read.Records)), l.ReadRecords)
	require.InDelta(t, float64(l.WriteRecords)/60000, l.WriteUtilization, 1e-9, "records are the larger share")
	require.InDelta(t, float64(l.ReadBytes)/float64(60*(2<<20)), l.ReadUtilization, 1e-9)
	require.NotEmpty(t, l.HotKeys)
	require.Equal(t, hot, l.HotKeys[0].PartitionKey)
	require.InDelta(t, 500, l.HotKeys[0].Records, 150, "estimated from a quarter of the records")
	require.Len(t, l.HotKeys, 1, "keys seen once are not named")
	require.NotEmpty(t, l.SplitKey)
	require.Empty(t, loads[1].HotKeys, "every key of the second shard was seen once")

	clk.Advance(time.Minute)
	loads, err = s.ShardLoads(bg)
	require.NoError(t, err)
	require.Zero(t, loads[0].WriteRecords, "a minute without traffic")
	require.Nil(t, loads[0].HotKeys)
}

// TestSplitKeyHalvesTheTraffic: the split key divides a shard's minute of
// writes in two halves, not its hash range.
func TestSplitKeyHalvesTheTraffic(t *testing.T) {
	clk := NewManualClock(tStart.Truncate(time.Minute))
	a, err := NewAccount(WithClock(clk), WithoutLimits())
	require.NoError(t, err)
	defer a.Close()
	s, err := a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1})
	require.NoError(t, err)
	// Three quarters of the records in the lowest eighth of the keys.
	keys := hashkey.Uniform(1024)
	var batch []PutInput
	for i := range 1024 {
		k := keys[i/8].Start // 0..127: the lowest eighth
		if i%4 == 3 {
			k = keys[128+i*7%896].Start // spread over the rest
		}
		batch = append(batch, PutInput{PartitionKey: "k", Data: make([]byte, 10), ExplicitHashKey: k.String()})
	}
	for len(batch) > 0 {
		n := min(len(batch), 500)
		_, err := s.PutBatch(bg, batch[:n])
		require.NoError(t, err)
		batch = batch[n:]
	}
	clk.Advance(time.Minute)
	loads, err := s.ShardLoads(bg)
	require.NoError(t, err)
	split, err := hashkey.Parse(loads[0].SplitKey)
	require.NoError(t, err)
	require.True(t, split.Less(keys[128].Start), "below the lowest eighth's end: %s", loads[0].SplitKey)
	require.True(t, keys[32].Start.Less(split), "above its lowest quarter: %s", loads[0].SplitKey)
}

// BenchmarkHotKeySketch is what counting a record's load adds to a put:
// compare it with BenchmarkPut in the same run
// (go test -run '^$' -bench 'BenchmarkPut$|HotKeySketch' .).
func BenchmarkHotKeySketch(b *testing.B) {
	m := newLoadMeter(hashkey.Range{End: hashkey.Max})
	keys := make([]string, 1024) // as BenchmarkPut's
	hashes := make([]hashkey.Key, len(keys))
	for i := range keys {
		keys[i] = fmt.Sprintf("partition-%06d", i)
		hashes[i] = hashkey.FromMD5(keys[i])
	}
	now := time.Unix(1<<30, 0).UnixMilli()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.countLocked(now, keys[i&1023], hashes[i&1023], 116)
	}
}
