package shardlog_test

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/internal/memstat"
	"github.com/stretchr/testify/require"
)

// stormDuration is how long producers write in TestStorm; set
// SHARDLOG_STORM=30s (any duration) to run it longer.
func stormDuration(t *testing.T) time.Duration {
	if v := os.Getenv("SHARDLOG_STORM"); v != "" {
		d, err := time.ParseDuration(v)
		require.NoError(t, err)
		return d
	}
	if testing.Short() {
		return 200 * time.Millisecond
	}
	return time.Second
}

// TestStorm: 8 producers, a goroutine resharding at random, the clock
// advancing, and three read paths at once (the lineage-aware TailAll, a
// KCL-style classic reader on GetRecords and ChildShards, and fan-out
// subscriptions that follow ChildShards). Each path must see every record
// exactly once, each key in order; afterwards expiry must return the
// memory. Run with -race.
func TestStorm(t *testing.T) {
	a, clk := newAccount(t, shardlog.WithShardLimit(10000), shardlog.WithHeartbeat(time.Second))
	s := newStream(t, a, "storm", 4)
	consumer := register(t, s, "fan")
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var written atomic.Int64
	var writing, produced atomic.Bool // produced: every producer has returned, written is final
	writing.Store(true)
	done := func(l *orderChecker) bool { return produced.Load() && int64(l.count()) == written.Load() }

	progress := make(chan struct{}, 1)
	paths := map[string]*orderChecker{}
	for _, name := range []string{"TailAll", "classic", "fan-out"} {
		paths[name] = newOrderChecker(t)
		paths[name].name, paths[name].progress = name, progress
	}
	var readers sync.WaitGroup
	readers.Add(3)
	go func() { // the lineage-aware tail
		defer readers.Done()
		for r, err := range s.TailAll(cctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
			if err != nil {
				return
			}
			paths["TailAll"].see(r.Data)
		}
	}()
	go func() { defer readers.Done(); classicReader(cctx, t, s, paths["classic"], done) }()
	go func() {
		defer readers.Done()
		fanOutReader(cctx, t, a, s, consumer.ConsumerARN, paths["fan-out"], done)
	}()

	var workers sync.WaitGroup
	for p := 0; p < 8; p++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			next := map[string]int{}
			for i := 0; writing.Load(); i++ {
				key := fmt.Sprintf("p%d-k%d", p, i%32)
				data := fmt.Sprintf("%s/%d", key, next[key])
				var err error
				if i%5 == 0 {
					var res shardlog.PutBatchOutput
					res, err = s.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: key, Data: []byte(data)}})
					if err == nil && res.FailedRecordCount > 0 {
						err = fmt.Errorf("batch failed: %+v", res.Records[0])
					}
				} else {
					_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: key, Data: []byte(data)})
				}
				if err != nil {
					t.Error(err)
					return
				}
				next[key]++
				written.Add(1)
			}
		}()
	}
	reshards := 0
	workers.Add(1)
	go func() { // the resharder, which also moves the clock
		defer workers.Done()
		r := rand.New(rand.NewPCG(1, 2))
		for writing.Load() {
			clk.Advance(time.Duration(r.IntN(20000)) * time.Millisecond) // expires iterators and subscriptions
			shards, err := allShards(s)
			if err != nil {
				t.Error(err)
				return
			}
			var open []shardlog.Shard
			for _, sh := range shards {
				if sh.SequenceNumberRange.EndingSequenceNumber.IsZero() {
					open = append(open, sh)
				}
			}
			sh := open[r.IntN(len(open))]
			switch op := r.IntN(3); {
			case op == 0 && len(open) < 12:
				lo, hi := bigOf(sh.HashKeyRange.StartingHashKey), bigOf(sh.HashKeyRange.EndingHashKey)
				if _, err := s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: sh.ShardID, NewStartingHashKey: new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1).String()}); err == nil {
					reshards++
				}
			case op == 1:
				for _, o := range open {
					if new(big.Int).Add(bigOf(sh.HashKeyRange.EndingHashKey), big.NewInt(1)).Cmp(bigOf(o.HashKeyRange.StartingHashKey)) == 0 {
						if _, err := s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: sh.ShardID, AdjacentShardToMerge: o.ShardID}); err == nil {
							reshards++
						}
						break
					}
				}
			default:
				if _, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: max(1, len(open)+r.IntN(5)-2), ScalingType: shardlog.UniformScaling}); err == nil {
					reshards++
				}
			}
		}
	}()

	<-time.After(stormDuration(t)) // the storm runs by itself meanwhile
	writing.Store(false)
	workers.Wait()
	produced.Store(true)
	timeout := time.After(30 * time.Second)
	for caughtUp := false; !caughtUp; {
		caughtUp = true
		for _, l := range paths {
			caughtUp = caughtUp && done(l)
		}
		if !caughtUp {
			select {
			case <-progress:
			case <-timeout:
				caughtUp = true // the counts below report what is missing
			}
		}
	}
	cancel()
	readers.Wait()

	total := written.Load()
	shards, _ := allShards(s)
	t.Logf("%d records, %d reshards, %d shards, simulated %v", total, reshards, len(shards), clk.Now().Sub(t0).Round(time.Second))
	require.Greater(t, total, int64(1000))
	require.Greater(t, reshards, 5)
	for name, l := range paths {
		require.Equal(t, total, int64(l.count()), "%s: records seen", name)
	}

	// Memory is bounded by retention: once everything expires it comes back.
	before := memstat.HeapAlloc()
	clk.Advance(25 * time.Hour)
	require.NoError(t, a.ApplyRetention(ctx))
	after := memstat.HeapAlloc()
	require.LessOrEqual(t, after, before, "expiry released the records")
	require.Empty(t, readShard(t, s, shards[len(shards)-1].ShardID))
}

// classicReader reads the stream as the KCL's polling consumer does: shards
// from the roots down, each to its end (GetRecords returns no iterator and
// the ChildShards) before its children, re-making iterators that expired
// from the last sequence number read.
func classicReader(ctx context.Context, t *testing.T, s *shardlog.Stream, l *orderChecker, done func(*orderChecker) bool) {
	type lease struct {
		it         string
		checkpoint shardlog.SequenceNumber
		parents    []string
	}
	roots, err := s.ListShards(ctx, shardlog.ListShardsInput{ShardFilter: shardlog.ShardFilter{Type: shardlog.FilterAtTrimHorizon}})
	if err != nil {
		t.Error(err)
		return
	}
	leases := map[string]*lease{}
	finished := map[string]bool{}
	for _, sh := range roots.Shards {
		leases[sh.ShardID] = &lease{}
	}
	for ctx.Err() == nil && !done(l) {
		for id, ls := range leases {
			ready := true
			for _, p := range ls.parents {
				ready = ready && finished[p]
			}
			if !ready {
				continue
			}
			if ls.it == "" {
				p := shardlog.StartingPosition{Type: shardlog.TrimHorizon}
				if !ls.checkpoint.IsZero() {
					p = shardlog.StartingPosition{Type: shardlog.AfterSequenceNumber, SequenceNumber: ls.checkpoint}
				}
				if ls.it, err = s.GetShardIterator(ctx, id, p); err != nil {
					t.Error(err)
					return
				}
			}
			out, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: ls.it, Limit: 100})
			if err != nil {
				ls.it = "" // expired: resume from the checkpoint
				continue
			}
			for _, r := range out.Records {
				l.see(r.Data)
				ls.checkpoint = r.SequenceNumber
			}
			ls.it = out.NextShardIterator
			if ls.it == "" { // the shard's end
				finished[id] = true
				delete(leases, id)
				for _, c := range out.ChildShards {
					if _, ok := leases[c.ShardID]; !ok && !finished[c.ShardID] {
						leases[c.ShardID] = &lease{parents: c.ParentShards}
					}
				}
			}
		}
	}
}

// fanOutReader reads the stream through SubscribeToShard: one subscription
// per shard whose parents are done, resubscribing after the five-minute
// lifetime from the last ContinuationSequenceNumber, and starting children
// from the ChildShards of a shard's last event.
func fanOutReader(ctx context.Context, t *testing.T, a *shardlog.Account, s *shardlog.Stream, arn string, l *orderChecker, done func(*orderChecker) bool) {
	type state struct {
		parents []string
		cont    shardlog.SequenceNumber
		sub     *shardlog.Subscription
	}
	roots, err := s.ListShards(ctx, shardlog.ListShardsInput{ShardFilter: shardlog.ShardFilter{Type: shardlog.FilterAtTrimHorizon}})
	if err != nil {
		t.Error(err)
		return
	}
	shards := map[string]*state{}
	finished := map[string]bool{}
	for _, sh := range roots.Shards {
		shards[sh.ShardID] = &state{}
	}
	defer func() {
		for _, st := range shards {
			if st.sub != nil {
				st.sub.Close()
			}
		}
	}()
	for ctx.Err() == nil && !done(l) {
		for id, st := range shards {
			ready := true
			for _, p := range st.parents {
				ready = ready && finished[p]
			}
			if !ready {
				continue
			}
			if st.sub == nil {
				p := shardlog.StartingPosition{Type: shardlog.TrimHorizon}
				if !st.cont.IsZero() {
					p = shardlog.StartingPosition{Type: shardlog.AfterSequenceNumber, SequenceNumber: st.cont}
				}
				sub, err := a.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerARN: arn, ShardID: id, StartingPosition: p})
				if err != nil {
					continue // within five seconds of the last call: try again later
				}
				st.sub = sub
			}
			select {
			case ev, ok := <-st.sub.Events():
				if !ok { // lifetime over: resubscribe from the continuation
					st.sub = nil
					continue
				}
				for _, r := range ev.Records {
					l.see(r.Data)
				}
				if !ev.ContinuationSequenceNumber.IsZero() {
					st.cont = ev.ContinuationSequenceNumber
				}
				if len(ev.ChildShards) > 0 {
					finished[id] = true
					st.sub.Close()
					delete(shards, id)
					for _, c := range ev.ChildShards {
						if _, ok := shards[c.ShardID]; !ok && !finished[c.ShardID] {
							shards[c.ShardID] = &state{parents: c.ParentShards}
						}
					}
				}
			default:
			}
		}
	}
}
