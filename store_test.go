package shardlog

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/internal/segfile"
	"github.com/shardlog/shardlog/internal/vfs"
)

var (
	bg     = context.Background()
	tStart = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
)

// durable opens a durable account in /data of fs on clk, limits off,
// closed when the test ends unless the test closes it.
func durable(t testing.TB, fs vfs.FS, clk *ManualClock, opts ...Option) *Account {
	t.Helper()
	a, err := NewAccount(append([]Option{withFS(fs), WithDir("/data"), WithClock(clk), WithoutLimits(), WithAccountID("123456789012")}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	return a
}

func mustStream(t testing.TB, a *Account, name string) *Stream {
	t.Helper()
	s, err := a.Stream(StreamRef{StreamName: name})
	require.NoError(t, err)
	return s
}

// contents reads every shard of s from the trim horizon: shard ID and
// records, each "seq key data millis".
func contents(t testing.TB, s *Stream) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	page, err := s.ListShards(bg, ListShardsInput{})
	require.NoError(t, err)
	for _, sh := range page.Shards {
		recs := []string{}
		for r, err := range s.Records(bg, sh.ShardID, StartingPosition{Type: TrimHorizon}) {
			require.NoError(t, err)
			recs = append(recs, fmt.Sprintf("%s %s %s %d", r.SequenceNumber, r.PartitionKey, r.Data, r.ApproximateArrivalTimestamp.UnixMilli()))
		}
		out[sh.ShardID] = recs
	}
	return out
}

func TestDurableAccountSurvivesCloseAndReopen(t *testing.T) {
	for _, policy := range []SyncPolicy{SyncAlways, SyncEvery(time.Second), SyncNone} {
		t.Run(policy.String(), func(t *testing.T) {
			fs := vfs.NewMemFS()
			clk := NewManualClock(tStart)
			a := durable(t, fs, clk, WithSync(policy), WithSegmentSize(64<<10))
			require.NoError(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 3, Tags: map[string]string{"team": "core"}})))
			s := mustStream(t, a, "s")
			for i := 0; i < 3000; i++ {
				_, err := s.Put(bg, PutInput{PartitionKey: fmt.Sprint("k", i%50), Data: fmt.Appendf(nil, "record %d %s", i, make([]byte, i%200))})
				require.NoError(t, err)
				if i%500 == 0 {
					clk.Advance(time.Second)
				}
			}
			_, err := s.UpdateShardCount(bg, UpdateShardCountInput{TargetShardCount: 4, ScalingType: UniformScaling})
			require.NoError(t, err)
			res, err := s.PutBatch(bg, []PutInput{{PartitionKey: "after", Data: []byte("reshard")}})
			require.NoError(t, err)
			require.Zero(t, res.FailedRecordCount)
			c, err := s.RegisterStreamConsumer(bg, "app")
			require.NoError(t, err)
			require.NoError(t, s.IncreaseStreamRetentionPeriod(bg, 48*time.Hour))
			it, err := s.GetShardIterator(bg, "shardId-000000000000", StartingPosition{Type: TrimHorizon})
			require.NoError(t, err)
			want := contents(t, s)
			wantSummary, err := s.DescribeStreamSummary(bg)
			require.NoError(t, err)
			require.NoError(t, a.Close())

			b := durable(t, fs, clk, WithSync(policy))
			require.Empty(t, b.Recovery().TornTails)
			require.Empty(t, b.Recovery().Corrupt)
			s2 := mustStream(t, b, "s")
			require.Equal(t, want, contents(t, s2))
			sum, err := s2.DescribeStreamSummary(bg)
			require.NoError(t, err)
			require.Equal(t, wantSummary, sum)
			tags, err := s2.ListTagsForStream(bg, ListTagsForStreamInput{})
			require.NoError(t, err)
			require.Equal(t, []Tag{{"team", "core"}}, tags.Tags)
			got, err := b.DescribeStreamConsumer(bg, ConsumerRef{ConsumerARN: c.ConsumerARN})
			require.NoError(t, err)
			require.Equal(t, c.ConsumerARN, got.ConsumerARN)
			// An iterator of before the restart still reads.
			out, err := b.GetRecords(bg, GetRecordsInput{ShardIterator: it, Limit: 1})
			require.NoError(t, err)
			require.Len(t, out.Records, 1)
			// New records get higher sequence numbers than any before.
			r, err := s2.Put(bg, PutInput{PartitionKey: "after", Data: []byte("restart")})
			require.NoError(t, err)
			last := want[r.ShardID][len(want[r.ShardID])-1]
			prev, err := ParseSequenceNumber(last[:56])
			require.NoError(t, err)
			require.Equal(t, 1, r.SequenceNumber.Compare(prev))
		})
	}
}

// TestBatchAcrossSegmentsIsDurable: a PutBatch whose records fill one
// segment file and go on in the next is acknowledged only when both are on
// disk: a power cut right after loses none of it.
func TestBatchAcrossSegmentsIsDurable(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	a := durable(t, fs.Process(), clk, WithSegmentSize(64<<10))
	require.NoError(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1})))
	want := putAcrossSegments(t, mustStream(t, a, "s"))
	fs.Crash()
	b := durable(t, fs.Process(), clk)
	require.Equal(t, want, shardData(t, mustStream(t, b, "s")))
}

// putAcrossSegments puts three batches of twenty 9 KB records into shard 0
// of s, so that with 64 KiB segments each batch spans files, and returns
// their data in order.
func putAcrossSegments(t *testing.T, s *Stream) []string {
	t.Helper()
	var want []string
	for round := 0; round < 3; round++ {
		batch := make([]PutInput, 20)
		for i := range batch {
			d := fmt.Sprintf("round %d record %d %s", round, i, make([]byte, 9000))
			batch[i] = PutInput{PartitionKey: "k", Data: []byte(d)}
			want = append(want, d)
		}
		res, err := s.PutBatch(bg, batch)
		require.NoError(t, err)
		require.Zero(t, res.FailedRecordCount)
	}
	return want
}

// shardData returns the data of shard 0's records, in order.
func shardData(t *testing.T, s *Stream) []string {
	t.Helper()
	var got []string
	for r, err := range s.Records(bg, "shardId-000000000000", StartingPosition{Type: TrimHorizon}) {
		require.NoError(t, err)
		got = append(got, string(r.Data))
	}
	return got
}

func TestSyncPolicyText(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncNone, SyncEvery(100 * time.Millisecond), SyncEvery(2 * time.Second)} {
		text, err := p.MarshalText()
		require.NoError(t, err)
		var back SyncPolicy
		require.NoError(t, back.UnmarshalText(text))
		require.Equal(t, p, back, string(text))
	}
	for _, bad := range []string{"", "sometimes", "0s", "-1s", "ALWAYS"} {
		var p SyncPolicy
		require.Error(t, p.UnmarshalText([]byte(bad)), bad)
	}
	_, err := NewAccount(WithDir(t.TempDir()), WithSync(SyncPolicy{}))
	require.Error(t, err, "the zero policy is not a policy")
}

// TestNewStreamReopensItsDirectory: the single-stream constructor on a
// directory that holds its stream opens it, records and reshards included.
func TestNewStreamReopensItsDirectory(t *testing.T) {
	fs := vfs.NewMemFS()
	opts := []Option{withFS(fs), WithDir("/data"), WithoutLimits()}
	s, err := NewStream("log", 2, opts...)
	require.NoError(t, err)
	_, err = s.Put(bg, PutInput{PartitionKey: "k", Data: []byte("kept")})
	require.NoError(t, err)
	_, err = s.UpdateShardCount(bg, UpdateShardCountInput{TargetShardCount: 4, ScalingType: UniformScaling})
	require.NoError(t, err)
	want := contents(t, s)
	require.NoError(t, s.Close())

	s, err = NewStream("log", 2, opts...)
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, want, contents(t, s))
	sum, err := s.DescribeStreamSummary(bg)
	require.NoError(t, err)
	require.Equal(t, 4, sum.OpenShardCount)

	_, err = NewStream("log", 2, opts...)
	require.ErrorContains(t, err, "is open in another account")
}

// TestCloseLeavesOnlyWrittenFiles: the segment file made ready ahead of
// need is deleted at Close; every file left has records.
func TestCloseLeavesOnlyWrittenFiles(t *testing.T) {
	fs := vfs.NewMemFS()
	a := durable(t, fs, NewManualClock(tStart), WithSegmentSize(64<<10))
	require.NoError(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 1})))
	s := mustStream(t, a, "s")
	for i := 0; i < 20; i++ {
		_, err := s.Put(bg, PutInput{PartitionKey: "k", Data: make([]byte, 10<<10)})
		require.NoError(t, err)
	}
	require.NoError(t, a.Close())
	dir := "/data/streams/1/0-"
	names, err := shardEntries(fs, dir)
	require.NoError(t, err)
	segs := 0
	for _, name := range names {
		if path.Ext(name) != ".seg" {
			continue
		}
		segs++
		f, err := fs.Open(dir + name)
		require.NoError(t, err)
		hb := make([]byte, segfile.HeaderSize)
		_, err = f.ReadAt(hb, 0)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		_, err = segfile.ParseHeader(hb)
		require.NoError(t, err, name)
	}
	require.Equal(t, 8, segs, "20 records of 10 KiB: one to each file of 2 to 16 KiB (a record larger than a file gets one of its size), 3 to one of 32, 6 to each of 64")
}

// errOf returns the error of a call that also returns a value.
func errOf[T any](_ T, err error) error { return err }

// TestDirectoryLockIsOnTheDirectory: the lock that keeps a second account
// out is on the directory itself: there is no lock file to delete from
// under a running account.
func TestDirectoryLockIsOnTheDirectory(t *testing.T) {
	dir := t.TempDir()
	a, err := NewAccount(WithDir(dir))
	require.NoError(t, err)
	names, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, n := range names {
		require.NoError(t, os.RemoveAll(filepath.Join(dir, n.Name())), "everything in it deleted")
	}
	_, err = NewAccount(WithDir(dir))
	require.ErrorContains(t, err, "is open in another account")
	_, err = NewAccount(WithDir(dir), WithReadOnly())
	require.ErrorContains(t, err, "is open in another account")
	require.NoError(t, a.Close())
	b, err := NewAccount(WithDir(dir))
	require.NoError(t, err)
	require.NoError(t, b.Close())
}
