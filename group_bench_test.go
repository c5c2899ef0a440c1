package shardlog_test

import (
	"context"
	"fmt"
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
	done      chan<- struct{}
	want      int64
	perRecord bool
}

func (c *counter) Initialize(shardlog.InitializeInput) {}
func (c *counter) ProcessRecords(in shardlog.ProcessRecordsInput) {
	if c.perRecord {
		for _, r := range in.Records {
			if err := in.Checkpointer.CheckpointAt(context.Background(), r.SequenceNumber); err != nil {
				panic(err)
			}
		}
	} else if err := in.Checkpointer.Checkpoint(context.Background()); err != nil {
		panic(err) // no lease changes hands while records flow
	}
	if c.n.Add(int64(len(in.Records))) == c.want {
		close(c.done)
	}
}
func (c *counter) LeaseLost(shardlog.LeaseLostInput) {}
func (c *counter) ShardEnded(in shardlog.ShardEndedInput) {
	_ = in.Checkpointer.Checkpoint(context.Background())
}
func (c *counter) ShutdownRequested(shardlog.ShutdownRequestedInput) {}

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
			var n atomic.Int64
			done := make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := s.RunWorker(ctx, shardlog.WorkerConfig{
						Application: "bench", WorkerID: fmt.Sprint("w", w), EnhancedFanOut: bench.fanOut,
						NewProcessor: func(string) shardlog.RecordProcessor {
							return &counter{n: &n, done: done, want: int64(b.N), perRecord: bench.perRecord}
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
			clk.Advance(4 * time.Second) // the workers stolen from renew, and stop those shards

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
	if err != nil {
		b.Fatal(err)
	}
	count := map[string]int{}
	for _, sh := range shards {
		count[sh.Owner]++
	}
	return len(count) == 4 && count["w0"] == 2 && count["w1"] == 2 && count["w2"] == 2 && count["w3"] == 2
}
