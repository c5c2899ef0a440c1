package shardlog_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/shardlog/shardlog"
)

// printer prints the records of its shard and checkpoints after each batch.
type printer struct {
	shard string
	seen  *sync.WaitGroup
}

func (p *printer) Initialize(_ context.Context, in shardlog.InitializeInput) error {
	fmt.Println("processing", in.ShardID)
	return nil
}

func (p *printer) ProcessRecords(ctx context.Context, in shardlog.ProcessRecordsInput) error {
	for _, r := range in.Records {
		fmt.Printf("%s: %s\n", r.PartitionKey, r.Data)
		p.seen.Done()
	}
	return in.Checkpointer.Checkpoint(ctx) // an error: the batch comes again
}

func (p *printer) LeaseLost(context.Context, shardlog.LeaseLostInput) {}

func (p *printer) ShardEnded(ctx context.Context, in shardlog.ShardEndedInput) error {
	return in.Checkpointer.Checkpoint(ctx) // children start after this
}

func (p *printer) ShutdownRequested(context.Context, shardlog.ShutdownRequestedInput) error {
	fmt.Println("shutting down", p.shard)
	return nil
}

// A consumer group of one worker; more workers with the same Application,
// in this process or beside it on a durable account, share the shards.
func ExampleRunWorker_embedded() {
	ctx := context.Background()
	s, err := shardlog.NewStream("orders", 1)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	var seen sync.WaitGroup
	for i := range 3 {
		seen.Add(1)
		if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "customer-7", Data: fmt.Appendf(nil, "order #%d", i+1)}); err != nil {
			panic(err)
		}
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() {
		done <- shardlog.RunWorker(wctx, s, shardlog.WorkerConfig{
			Application: "billing",
			NewProcessor: func(shardID string) shardlog.RecordProcessor {
				return &printer{shard: shardID, seen: &seen}
			},
		})
	}()
	seen.Wait()
	stop()
	if err := <-done; err != nil {
		panic(err)
	}
	shards, err := s.DescribeGroup(ctx, "billing", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("checkpoint:", shards[0].Checkpoint.Counter(), "behind:", shards[0].RecordsBehind)
	// Output:
	// processing shardId-000000000000
	// customer-7: order #1
	// customer-7: order #2
	// customer-7: order #3
	// shutting down shardId-000000000000
	// checkpoint: 3 behind: 0
}

// Splitting a shard in two and merging the halves back; readers of the
// whole stream read parents before children.
func ExampleStream_SplitShard() {
	ctx := context.Background()
	s, err := shardlog.NewStream("events", 1)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	shards, err := s.ListShards(ctx, shardlog.ListShardsInput{})
	if err != nil {
		panic(err)
	}
	split, err := s.SplitShard(ctx, shardlog.SplitShardInput{ShardToSplit: shards.Shards[0].ShardID, NewStartingHashKey: shards.Shards[0].HashKeyRange.Midpoint()})
	if err != nil {
		panic(err)
	}
	halves := split.ChildShardIDs
	fmt.Println("split into", halves)
	merged, err := s.MergeShards(ctx, shardlog.MergeShardsInput{ShardToMerge: halves[0], AdjacentShardToMerge: halves[1]})
	if err != nil {
		panic(err)
	}
	fmt.Println("merged into", merged.ChildShardID)
	// Output:
	// split into [shardId-000000000001 shardId-000000000002]
	// merged into shardId-000000000003
}

// Enhanced fan-out: a registered consumer gets a shard's records pushed.
func ExampleStream_SubscribeToShard() {
	ctx := context.Background()
	s, err := shardlog.NewStream("events", 1)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	if _, err := s.RegisterStreamConsumer(ctx, "dashboard"); err != nil {
		panic(err)
	}
	if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("hello")}); err != nil {
		panic(err)
	}
	sub, err := s.SubscribeToShard(ctx, shardlog.SubscribeToShardInput{ConsumerName: "dashboard", ShardID: shardlog.ShardIDOf(0), StartingPosition: shardlog.StartingPosition{Type: shardlog.TrimHorizon}})
	if err != nil {
		panic(err)
	}
	defer sub.Close()
	ev := <-sub.Events()
	fmt.Printf("%s, %d ms behind\n", ev.Records[0].Data, ev.MillisBehindLatest)
	// Output: hello, 0 ms behind
}

// A consumer group written against StreamAPI runs unchanged on an embedded
// stream and on Amazon Kinesis (through the aws module, with its
// DynamoDB LeaseStore): only the stream and the lease store differ.
func ExampleRunWorker_streamAPI() {
	ctx := context.Background()
	s, err := shardlog.NewStream("orders", 1)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	var stream shardlog.StreamAPI = s // or aws.Open(ctx, kinesisClient, ref)
	leases := shardlog.NewMemoryLeaseStore()
	// or aws.NewLeaseStore(dynamoClient)

	var seen sync.WaitGroup
	seen.Add(1)
	if _, err := stream.Put(ctx, shardlog.PutInput{PartitionKey: "customer-7", Data: []byte("order #1")}); err != nil {
		panic(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() {
		done <- shardlog.RunWorker(wctx, stream, shardlog.WorkerConfig{
			Application: "billing",
			Leases:      leases,
			NewProcessor: func(shardID string) shardlog.RecordProcessor {
				return &printer{shard: shardID, seen: &seen}
			},
		})
	}()
	seen.Wait()
	stop()
	if err := <-done; err != nil {
		panic(err)
	}
	// Output:
	// processing shardId-000000000000
	// customer-7: order #1
	// shutting down shardId-000000000000
}

// ProcessFunc: one function per batch; each batch it returns nil for is
// checkpointed, so a restarted group goes on after it.
func ExampleProcessFunc() {
	ctx := context.Background()
	s, err := shardlog.NewStream("orders", 1)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "customer-7", Data: []byte("order #1")}); err != nil {
		panic(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() {
		done <- shardlog.RunWorker(wctx, s, shardlog.WorkerConfig{
			Application: "billing",
			NewProcessor: shardlog.ProcessFunc(func(ctx context.Context, in shardlog.ProcessRecordsInput) error {
				for _, r := range in.Records {
					fmt.Printf("billing %s\n", r.Data)
				}
				stop() // one batch is enough for the example
				return nil
			}),
		})
	}()
	if err := <-done; err != nil {
		panic(err)
	}
	group, err := shardlog.DescribeGroup(ctx, s, "billing", nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("behind:", group[0].RecordsBehind)
	// Output:
	// billing order #1
	// behind: 0
}
