package shardlog_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/memstat"
	"github.com/stretchr/testify/require"
)

var syncPolicies = []shardlog.SyncPolicy{shardlog.SyncAlways, shardlog.SyncEvery(time.Hour), shardlog.SyncNone}

// TestDurableReadersSeeEveryRecord: on a durable account, under each sync
// policy, a tailing reader and an enhanced fan-out subscription receive
// every record as it is put (under SyncAlways, once it is durable), across
// segment files; a reader that starts later reads them back from the files.
func TestDurableReadersSeeEveryRecord(t *testing.T) {
	for _, policy := range syncPolicies {
		t.Run(policy.String(), func(t *testing.T) {
			a, _ := newAccount(t, shardlog.WithDir(t.TempDir()), shardlog.WithSync(policy), shardlog.WithSegmentSize(64<<10))
			s := newStream(t, a, "s", 1)
			c := register(t, s, "app")
			sub := subscribe(t, a, c.ConsumerARN, shard0, shardlog.StartingPosition{Type: shardlog.Latest})

			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			tailed := make(chan string, 1000)
			go func() {
				defer close(tailed)
				for r, err := range s.Tail(cctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
					if err != nil {
						return
					}
					tailed <- string(r.Data)
				}
			}()

			const n = 300 // of 1 KiB: five files
			var want []string
			for i := range n {
				data := fmt.Sprintf("%04d%s", i, strings.Repeat("x", 1020))
				want = append(want, data)
				put(t, s, "k", data)
				require.Equal(t, data, <-tailed, "record %d", i)
			}
			require.Equal(t, want, receive(t, sub, n))
			cancel()

			var again []string
			for r, err := range s.Records(ctx, shard0, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
				require.NoError(t, err)
				again = append(again, string(r.Data))
			}
			require.Equal(t, want, again)
		})
	}
}

// TestDurableHeapHoldsIndexNotData: a durable account keeps about 30 bytes
// of heap per record, whatever the records' size: 64 MiB of records take
// a few MiB.
func TestDurableHeapHoldsIndexNotData(t *testing.T) {
	a, _ := newAccount(t, shardlog.WithDir(t.TempDir()), shardlog.WithSync(shardlog.SyncNone))
	s := newStream(t, a, "s", 1)
	batch := make([]shardlog.PutInput, 64)
	for i := range batch {
		batch[i] = shardlog.PutInput{PartitionKey: "k", Data: make([]byte, 4<<10)}
	}
	before := memstat.HeapAlloc()
	const records = 16 << 10 // of 4 KiB: 64 MiB
	for i := 0; i < records; i += len(batch) {
		res, err := s.PutBatch(ctx, batch)
		require.NoError(t, err)
		require.Zero(t, res.FailedRecordCount)
	}
	grown := memstat.HeapAlloc() - before
	t.Logf("64 MiB of records: heap grew %d KiB", grown>>10)
	require.Less(t, grown, int64(8<<20), "the slabs being written and two cached ones, and the index")
	runtime.KeepAlive(s)
}
