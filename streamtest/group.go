package streamtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shardlog/shardlog"
)

// consumerGroup: a consumer group (shardlog.RunWorker) processes every
// record once, in order per key; a worker that comes after it resumes
// after its checkpoints.
func consumerGroup(t *testing.T, open Open) { runGroup(t, open, false) }

// consumerGroupFanOut: consumerGroup, reading with SubscribeToShard.
func consumerGroupFanOut(t *testing.T, open Open) { runGroup(t, open, true) }

func runGroup(t *testing.T, open Open, fanOut bool) {
	s := open(t, 2)
	c := checked{t, s}
	sent := map[string]int{}
	putKeys := func(n int) {
		batch := make([]shardlog.PutInput, 0, n)
		for i := 0; i < n; i++ {
			key := fmt.Sprint("key-", i%7)
			batch = append(batch, shardlog.PutInput{PartitionKey: key, Data: []byte(fmt.Sprintf("%s/%d", key, sent[key]))})
			sent[key]++
		}
		if r := c.putBatch(batch); r.FailedRecordCount != 0 {
			t.Fatalf("%d records failed", r.FailedRecordCount)
		}
	}
	p := &keyOrder{t: t, next: map[string]int{}, seen: make(chan struct{}, 1000)}
	cfg := shardlog.WorkerConfig{
		Application:    "group",
		NewProcessor:   func(string) shardlog.RecordProcessor { return p },
		Leases:         shardlog.NewMemoryLeaseStore(),
		EnhancedFanOut: fanOut,
		PollInterval:   10 * time.Millisecond,
	}
	run := func(worker string, n int) {
		cfg.WorkerID = worker
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- shardlog.RunWorker(ctx, s, cfg) }()
		deadline := time.After(20 * time.Second)
		for i := 0; i < n; i++ {
			select {
			case <-p.seen:
			case <-deadline:
				t.Fatalf("worker %s processed %d of %d records in 20 s", worker, i, n)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("worker %s: %v", worker, err)
		}
	}
	putKeys(100)
	run("first", 100)
	putKeys(50)
	run("second", 50)
	select {
	case <-p.seen:
		t.Fatal("a record was processed twice")
	default:
	}
}

// keyOrder is a RecordProcessor shared by a group's shards: it checks that
// each key's records come in order, once, and checkpoints every batch.
type keyOrder struct {
	t    *testing.T
	mu   sync.Mutex
	next map[string]int
	seen chan struct{}
}

func (p *keyOrder) Initialize(context.Context, shardlog.InitializeInput) error { return nil }

func (p *keyOrder) ProcessRecords(ctx context.Context, in shardlog.ProcessRecordsInput) error {
	p.mu.Lock()
	for _, r := range in.Records {
		key, i, _ := strings.Cut(string(r.Data), "/")
		if want := fmt.Sprint(p.next[key]); i != want {
			p.t.Errorf("key %s: got record %s, want %s (lost, repeated or out of order)", key, i, want)
		}
		p.next[key]++
		p.seen <- struct{}{}
	}
	p.mu.Unlock()
	if err := in.Checkpointer.Checkpoint(ctx); err != nil {
		p.t.Errorf("checkpoint: %v", err)
	}
	return nil
}

func (p *keyOrder) LeaseLost(context.Context, shardlog.LeaseLostInput) {}

func (p *keyOrder) ShardEnded(ctx context.Context, in shardlog.ShardEndedInput) error {
	if err := in.Checkpointer.Checkpoint(ctx); err != nil {
		p.t.Errorf("checkpoint: %v", err)
	}
	return nil
}

func (p *keyOrder) ShutdownRequested(context.Context, shardlog.ShutdownRequestedInput) error {
	return nil
}
