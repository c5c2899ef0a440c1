package shardlog_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

// TestConcurrentProducersAndTailingReaders runs producers on every shard and
// a tailing reader per shard; every record arrives exactly once, in each
// producer's order. Run with -race.
func TestConcurrentProducersAndTailingReaders(t *testing.T) {
	a, _ := newAccount(t)
	const shards, producers, perProducer = 4, 4, 2000
	s := newStream(t, a, "s", shards)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type seen struct {
		mu   sync.Mutex
		last map[string]int // producer -> last index seen
		n    int
	}
	got := &seen{last: map[string]int{}}
	var readers sync.WaitGroup
	for i := 0; i < shards; i++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for r, err := range s.Tail(cctx, fmt.Sprintf("shardId-%012d", i), shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
				if err != nil {
					return
				}
				p, idx, _ := strings.Cut(string(r.Data), "/")
				n, _ := strconv.Atoi(idx)
				got.mu.Lock()
				if prev, ok := got.last[r.PartitionKey+p]; ok && n <= prev {
					t.Errorf("key %s producer %s: %d after %d", r.PartitionKey, p, n, prev)
				}
				got.last[r.PartitionKey+p] = n
				got.n++
				done := got.n == producers*perProducer
				got.mu.Unlock()
				if done {
					cancel()
				}
			}
		}()
	}
	var producersWG sync.WaitGroup
	for p := 0; p < producers; p++ {
		producersWG.Add(1)
		go func() {
			defer producersWG.Done()
			for i := 0; i < perProducer; i++ {
				key := fmt.Sprint("key-", i%16)
				data := []byte(fmt.Sprintf("%d/%d", p, i))
				var err error
				if i%3 == 0 {
					_, err = s.PutBatch(ctx, []shardlog.PutInput{{PartitionKey: key, Data: data}})
				} else {
					_, err = s.Put(ctx, shardlog.PutInput{PartitionKey: key, Data: data})
				}
				if err != nil {
					t.Error(err) // not require: FailNow must run on the test's goroutine
					cancel()
					return
				}
			}
		}()
	}
	producersWG.Wait()
	readers.Wait()
	require.Equal(t, producers*perProducer, got.n)
}
