package shardlog

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/shardlog/shardlog/internal/vfs"
	"github.com/stretchr/testify/require"
)

// heldInMemory reports whether shard 0 of s holds a file being written or
// any record's bytes in memory.
func heldInMemory(s *Stream) bool {
	sh := s.shardAt(0)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.seg.Used() > 0 || sh.files.active != nil || sh.load != nil || sh.seg.Loaded() > 0
}

// TestIdleShardLetsItsMemoryGo: five minutes without a record, and
// ApplyRetention parks a durable shard: nothing of its records in memory,
// every record read back from its files, the next record in a new file,
// and all of it there after a power cut, under each sync policy.
func TestIdleShardLetsItsMemoryGo(t *testing.T) {
	for _, policy := range []SyncPolicy{SyncAlways, SyncEvery(time.Second), SyncNone} {
		t.Run(policy.String(), func(t *testing.T) {
			fs := vfs.NewMemFS()
			clk := NewManualClock(tStart)
			a, s := oneShard(t, fs, clk, WithSync(policy))
			want := putN(t, s, "r", 3)                 // one file of 2 KiB
			require.NoError(t, s.shardAt(0).syncAll()) // as SyncEvery's tick would
			clk.Advance(parkAfter - time.Second)
			require.NoError(t, a.ApplyRetention(bg))
			require.True(t, heldInMemory(s), "not idle long enough")

			clk.Advance(time.Second)
			require.NoError(t, a.ApplyRetention(bg))
			require.False(t, heldInMemory(s), "parked")
			names, err := shardEntries(fs, s.shardAt(0).files.path(""))
			require.NoError(t, err)
			require.Equal(t, []string{"0000000000.seg"}, names, "a small file is left to opening's scan: no index")

			require.Equal(t, want, shard0(t, a), "read back from the file")
			require.NoError(t, a.ApplyRetention(bg))
			require.False(t, heldInMemory(s), "what a reader loaded goes at the next pass")

			want = append(want, putN(t, s, "s", 10)...)
			require.Equal(t, want, shard0(t, a))
			names, err = shardEntries(fs, s.shardAt(0).files.path(""))
			require.NoError(t, err)
			require.Contains(t, names, "0000000001.seg", "the next record starts a new file")
			if policy == SyncNone {
				require.NoError(t, a.Close())
			} else {
				require.NoError(t, s.shardAt(0).syncAll())
				fs.Crash()
			}
			b := reopenAt(t, fs, clk)
			require.Empty(t, b.Recovery().Corrupt)
			require.Empty(t, b.Recovery().TornTails)
			require.Equal(t, want, shard0(t, b))
			require.NoError(t, b.Close())
		})
	}
}

// TestReaderOfAParkedShardReadsOn: a reader that was reading the file the
// shard was writing when it parked goes on reading, from its file.
func TestReaderOfAParkedShardReadsOn(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	a, s := oneShard(t, fs, clk)
	want := putN(t, s, "r", 10)
	var got []string
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	next, stop := iter.Pull2(s.Tail(ctx, "shardId-000000000000", StartingPosition{Type: TrimHorizon}))
	defer stop()
	for range 5 {
		r, err, ok := next()
		require.True(t, ok)
		require.NoError(t, err)
		got = append(got, string(r.Data[:5]))
	}
	clk.Advance(parkAfter)
	require.NoError(t, a.ApplyRetention(bg))
	require.False(t, heldInMemory(s))
	want = append(want, putN(t, s, "s", 10)...)
	for len(got) < len(want) {
		r, err, ok := next()
		require.True(t, ok)
		require.NoError(t, err)
		got = append(got, string(r.Data[:5]))
	}
	require.Equal(t, want, got)
	require.NoError(t, a.Close())
}

// TestParkingWhileWritingAndReading: shards park and wake while others are
// written, and while readers read them: every record is read back once, in
// order (run it with -race).
func TestParkingWhileWritingAndReading(t *testing.T) {
	fs := vfs.NewMemFS()
	clk := NewManualClock(tStart)
	a := durable(t, fs.Process(), clk, WithSegmentSize(64<<10))
	require.NoError(t, errOf(a.CreateStream(bg, CreateStreamInput{StreamName: "s", ShardCount: 2})))
	s := mustStream(t, a, "s")
	keys := damageHashKeys // one for each shard
	const rounds = 40
	var wg sync.WaitGroup
	got := make([][]string, 2)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	for i, id := range []string{"shardId-000000000000", "shardId-000000000001"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r, err := range s.Tail(ctx, id, StartingPosition{Type: TrimHorizon}) {
				if err != nil {
					t.Error(err)
					return
				}
				got[i] = append(got[i], string(r.Data))
				if len(got[i]) == rounds*5 {
					return
				}
			}
		}()
	}
	parked := make(chan struct{})
	writing := make(chan struct{})
	go func() { // parks whatever is idle, again and again, as writers write
		defer close(parked)
		for range 100 { // 8h20m of the clock: no record expires
			select {
			case <-writing:
				return
			default:
			}
			runtime.Gosched()
			clk.Advance(parkAfter)
			if err := a.ApplyRetention(bg); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var want [2][]string
	for round := range rounds {
		for i, key := range keys {
			for j := range 5 {
				d := fmt.Sprintf("%d/%d/%d", i, round, j)
				_, err := s.Put(bg, PutInput{PartitionKey: "k", ExplicitHashKey: key, Data: []byte(d)})
				require.NoError(t, err)
				want[i] = append(want[i], d)
			}
		}
	}
	close(writing)
	<-parked
	wg.Wait()
	require.Equal(t, want[0], got[0])
	require.Equal(t, want[1], got[1])
	require.NoError(t, a.Close())
	b := reopenAt(t, fs, clk)
	require.Empty(t, b.Recovery().Corrupt)
	require.NoError(t, b.Close())
}
