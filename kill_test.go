package shardlog

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shardlog/shardlog/internal/testchild"
	"github.com/shardlog/shardlog/internal/testsize"
)

// TestKilledProcessLosesNothingAcknowledged runs a child process that
// writes to a durable account from several goroutines while another
// splits and merges shards, and prints each record as soon as it is
// acknowledged; the test kills it with SIGKILL at a random moment, reopens
// the directory, and finds every printed record, with its sequence number.
// Each round uses one of the sync policies: none of them may lose anything
// on a process crash.
func TestKilledProcessLosesNothingAcknowledged(t *testing.T) {
	if os.Getenv("SHARDLOG_KILL_DIR") != "" {
		t.Skip("this is the child")
	}
	dir := t.TempDir()
	policies := []string{"always", "none", "10ms"}
	acked := map[string]string{} // data -> "shard seq"
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	for round := 0; round < testsize.Rounds(t, "SHARDLOG_KILLS", 20, 5); round++ {
		child := testchild.Start(t, "TestKillChild", "SHARDLOG_KILL_DIR="+dir, "SHARDLOG_KILL_SYNC="+policies[round%len(policies)], fmt.Sprint("SHARDLOG_KILL_ROUND=", round))
		note := func(line string) bool {
			if !strings.HasPrefix(line, "ack ") {
				return false
			}
			f := strings.Fields(line)
			acked[f[1]] = f[2] + " " + f[3]
			return true
		}
		// Let it write for a while: until it has acknowledged a random number
		// of records, then kill it in the middle of whatever it is doing.
		want := 200 + r.IntN(3000)
		got := 0
		for line := range child.Lines {
			if note(line) {
				if got++; got == want {
					break
				}
			}
		}
		child.Kill(t, func(line string) { note(line) }) // what it printed before it died counts

		// Reopen in this process, as a restart would, and look.
		a, err := NewAccount(WithDir(dir), WithoutLimits(), WithSync(SyncNone), WithShardLimit(200))
		require.NoError(t, err, "round %d", round)
		seen := map[string]string{}
		for _, name := range []string{"k0", "k1"} {
			s, err := a.Stream(StreamRef{StreamName: name})
			if err != nil {
				continue
			}
			page, err := s.ListShards(bg, ListShardsInput{})
			require.NoError(t, err)
			for _, sh := range page.Shards {
				for rec, err := range s.Records(bg, sh.ShardID, StartingPosition{Type: TrimHorizon}) {
					require.NoError(t, err)
					seen[string(rec.Data)] = sh.ShardID + " " + rec.SequenceNumber.String()
				}
			}
		}
		for d, where := range acked {
			require.Equal(t, where, seen[d], "round %d: acknowledged record %s", round, d)
		}
		require.Empty(t, a.Recovery().Corrupt)
		require.NoError(t, a.Close())
	}
	t.Logf("%d rounds, %d records acknowledged and found", testsize.Rounds(t, "SHARDLOG_KILLS", 20, 5), len(acked))
}

// TestKillChild is the child of TestKilledProcessLosesNothingAcknowledged;
// it does nothing unless started by it.
func TestKillChild(t *testing.T) {
	dir := os.Getenv("SHARDLOG_KILL_DIR")
	if dir == "" {
		t.Skip("started by TestKilledProcessLosesNothingAcknowledged only")
	}
	policy := SyncAlways
	switch v := os.Getenv("SHARDLOG_KILL_SYNC"); v {
	case "none":
		policy = SyncNone
	case "always":
	default:
		d, err := time.ParseDuration(v)
		require.NoError(t, err)
		policy = SyncEvery(d)
	}
	round := os.Getenv("SHARDLOG_KILL_ROUND")
	a, err := NewAccount(WithDir(dir), WithoutLimits(), WithSync(policy), WithShardLimit(200), WithSegmentSize(64<<10))
	require.NoError(t, err)
	for _, name := range []string{"k0", "k1"} {
		if _, err := a.CreateStream(bg, CreateStreamInput{StreamName: name, ShardCount: 2}); err != nil {
			require.ErrorIs(t, err, ErrResourceInUse)
		}
	}
	var mu sync.Mutex // orders the lines
	acks := 0
	reshard := make(chan struct{}, 1) // a reshard every 100 acknowledgements
	ack := func(data, shard string, seq SequenceNumber) {
		mu.Lock()
		fmt.Printf("ack %s %s %s\n", data, shard, seq)
		if acks++; acks%100 == 0 {
			select {
			case reshard <- struct{}{}:
			default:
			}
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), uint64(time.Now().UnixNano())))
			for i := 0; ; i++ {
				s, err := a.Stream(StreamRef{StreamName: fmt.Sprint("k", r.IntN(2))})
				if err != nil {
					return
				}
				data := fmt.Sprintf("r%s-g%d-%d-%s", round, g, i, strings.Repeat("x", r.IntN(200)))
				if i%3 == 0 {
					batch := make([]PutInput, 1+r.IntN(20))
					for j := range batch {
						batch[j] = PutInput{PartitionKey: fmt.Sprint("key", r.IntN(100)), Data: []byte(fmt.Sprintf("%s-%d", data, j))}
					}
					res, err := s.PutBatch(bg, batch)
					if err != nil {
						continue
					}
					for j, e := range res.Records {
						if e.ErrorCode == "" {
							ack(string(batch[j].Data), e.ShardID, e.SequenceNumber)
						}
					}
					continue
				}
				res, err := s.Put(bg, PutInput{PartitionKey: fmt.Sprint("key", r.IntN(100)), Data: []byte(data)})
				if err == nil {
					ack(data, res.ShardID, res.SequenceNumber)
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // the resharder
		defer wg.Done()
		r := rand.New(rand.NewPCG(9, uint64(time.Now().UnixNano())))
		for range reshard {
			s, err := a.Stream(StreamRef{StreamName: fmt.Sprint("k", r.IntN(2))})
			if err != nil {
				return
			}
			page, err := s.ListShards(bg, ListShardsInput{ShardFilter: ShardFilter{Type: FilterAtLatest}})
			if err != nil {
				return
			}
			open := page.Shards
			if len(open) < 5 && r.IntN(2) == 0 {
				sh := open[r.IntN(len(open))]
				lo, _ := new(big.Int).SetString(sh.HashKeyRange.StartingHashKey, 10)
				hi, _ := new(big.Int).SetString(sh.HashKeyRange.EndingHashKey, 10)
				_ = errOf(s.SplitShard(bg, SplitShardInput{ShardToSplit: sh.ShardID, NewStartingHashKey: new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1).String()}))
			} else if len(open) > 1 {
				i := r.IntN(len(open) - 1)
				_ = errOf(s.MergeShards(bg, MergeShardsInput{ShardToMerge: open[i].ShardID, AdjacentShardToMerge: open[i+1].ShardID}))
			}
		}
	}()
	wg.Wait() // never: the parent kills the process
}
