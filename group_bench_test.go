package shardlog_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
)

// counter is a processor that counts records and checkpoints after each
// batch, or after each record.
type counter struct {
	n         *atomic.Int64
	want      *atomic.Int64 // when n reaches it, done is closed
	done      func()
	perRecord bool
}

func (c *counter) Initialize(context.Context, shardlog.InitializeInput) error { return nil }
func (c *counter) ProcessRecords(ctx context.Context, in shardlog.ProcessRecordsInput) error {
	var err error
	if c.perRecord {
		for _, r := range in.Records {
			if err = in.Checkpointer.CheckpointAt(ctx, r.SequenceNumber); err != nil {
				break
			}
		}
	} else {
		err = in.Checkpointer.Checkpoint(ctx)
	}
	switch {
	case errors.Is(err, shardlog.ErrLeaseLost):
		return nil // handed over while warming up: the new owner counts them
	case err != nil:
		panic(err)
	}
	if c.n.Add(int64(len(in.Records))) >= c.want.Load() {
		c.done()
	}
	return nil
}
func (c *counter) LeaseLost(context.Context, shardlog.LeaseLostInput) {}
func (c *counter) ShardEnded(ctx context.Context, in shardlog.ShardEndedInput) error {
	return in.Checkpointer.Checkpoint(ctx)
}
func (c *counter) ShutdownRequested(context.Context, shardlog.ShutdownRequestedInput) error {
	return nil
}

// BenchmarkGroup puts b.N records of 100 bytes into 8 shards in batches of
// 500 while a group of 4 workers, two shards each, processes them; it
// reports records put and processed a second, end to end.
func BenchmarkGroup(b *testing.B) {
	for _, bench := range []struct {
		name      string
		perRecord bool
		fanOut    bool
	}{
		{"polling/checkpoint=batch", false, false},
		{"polling/checkpoint=record", true, false},
		{"fanout/checkpoint=batch", false, true},
	} {
		b.Run(bench.name, func(b *testing.B) {
			clk := shardlog.NewManualClock(time.Now())
			s, err := shardlog.NewStream("bench", 8, shardlog.WithoutLimits(), shardlog.WithClock(clk))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var n, want atomic.Int64
			want.Store(1 << 62)
			done := make(chan struct{})
			var once sync.Once
			finish := func() { once.Do(func() { close(done) }) }
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := shardlog.RunWorker(ctx, s, shardlog.WorkerConfig{
						Application: "bench", WorkerID: fmt.Sprint("w", w), EnhancedFanOut: bench.fanOut,
						NewProcessor: func(string) shardlog.RecordProcessor {
							return &counter{n: &n, want: &want, done: finish, perRecord: bench.perRecord}
						},
					})
					if err != nil {
						b.Error(err)
					}
				}()
			}
			defer func() { cancel(); wg.Wait() }()
			for !balanced(b, s) {
				clk.Advance(4 * time.Second)
			}
			for range 3 { // every worker renews: hand-offs are over
				clk.Advance(4 * time.Second)
			}
			// A record in each shard, processed once the new owners'
			// consumers (subscribing again after the five-second rule) run.
			shards, err := s.ListShards(context.Background(), shardlog.ListShardsInput{})
			if err != nil {
				b.Fatal(err)
			}
			for _, sh := range shards.Shards {
				if _, err := s.Put(context.Background(), shardlog.PutInput{PartitionKey: "warm", ExplicitHashKey: sh.HashKeyRange.StartingHashKey, Data: []byte("x")}); err != nil {
					b.Fatal(err)
				}
			}
			for n.Load() < int64(len(shards.Shards)) {
				clk.Advance(time.Second)
				runtime.Gosched()
			}
			want.Store(n.Load() + int64(b.N))

			keys := benchKeys()
			data := make([]byte, 100)
			batch := make([]shardlog.PutInput, 500)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += len(batch) {
				m := min(len(batch), b.N-i)
				for j := range m {
					batch[j] = shardlog.PutInput{PartitionKey: keys[(i+j)%len(keys)], Data: data}
				}
				if _, err := s.PutBatch(context.Background(), batch[:m]); err != nil {
					b.Fatal(err)
				}
			}
			<-done
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// balanced reports whether each of the 4 workers holds 2 of the 8 leases.
func balanced(b *testing.B, s *shardlog.Stream) bool {
	shards, err := s.DescribeGroup(context.Background(), "bench", nil)
	if errors.Is(err, shardlog.ErrResourceNotFound) {
		return false // no worker has made the leases yet
	}
	if err != nil {
		b.Fatal(err)
	}
	count := map[string]int{}
	for _, sh := range shards {
		count[sh.Owner]++
	}
	return len(count) == 4 && count["w0"] == 2 && count["w1"] == 2 && count["w2"] == 2 && count["w3"] == 2
}

// BenchmarkMemoryCheckpoint writes checkpoints to an in-memory LeaseStore,
// the work a Checkpointer's call adds in memory.
func BenchmarkMemoryCheckpoint(b *testing.B) {
	store := shardlog.NewMemoryLeaseStore()
	l := shardlog.Lease{Key: shardlog.ShardIDOf(0), Owner: "w", Parents: []string{"shardId-000000000009"}}
	if err := store.Swap(context.Background(), "bench", nil, l); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		n := l
		n.Counter++
		if err := store.Swap(context.Background(), "bench", &l, n); err != nil {
			b.Fatal(err)
		}
		l = n
	}
}
