package shardlog_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shardlog/shardlog"
)

func Example() {
	ctx := context.Background()
	acct, err := shardlog.NewAccount()
	if err != nil {
		panic(err)
	}
	defer acct.Close()

	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 2})
	if err != nil {
		panic(err)
	}
	res, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "customer-7", Data: []byte("order #1")})
	if err != nil {
		panic(err)
	}
	for rec, err := range s.Records(ctx, res.ShardID, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: %s\n", rec.PartitionKey, rec.Data)
	}
	// Output: customer-7: order #1
}

// Classic Kinesis reads: an iterator, then GetRecords until caught up.
func ExampleAccount_GetRecords() {
	ctx := context.Background()
	s, _ := shardlog.NewStream("events", 1)
	defer s.Close()
	for i := 1; i <= 3; i++ {
		s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte(fmt.Sprint("event ", i))})
	}
	it, _ := s.GetShardIterator(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	for {
		out, err := s.Account().GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it, Limit: 2})
		if err != nil {
			panic(err)
		}
		for _, r := range out.Records {
			fmt.Println(string(r.Data))
		}
		if out.MillisBehindLatest == 0 && len(out.Records) < 2 {
			break
		}
		it = out.NextShardIterator
	}
	// Output:
	// event 1
	// event 2
	// event 3
}

// A manual clock makes time rules instant and deterministic in tests.
func ExampleManualClock() {
	ctx := context.Background()
	clock := shardlog.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s, _ := shardlog.NewStream("events", 1, shardlog.WithClock(clock))
	defer s.Close()

	it, _ := s.GetShardIterator(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.Latest})
	clock.Advance(5*time.Minute + time.Second)
	_, err := s.GetRecords(ctx, shardlog.GetRecordsInput{ShardIterator: it})
	fmt.Println(errors.Is(err, shardlog.ErrExpiredIterator))
	// Output: true
}

// Throughput limits are on by default, as in Kinesis, and fail with the
// same exception.
func ExampleStream_PutBatch() {
	ctx := context.Background()
	s, _ := shardlog.NewStream("events", 1, shardlog.WithClock(shardlog.NewManualClock(time.Unix(0, 0))))
	defer s.Close()
	batch := make([]shardlog.PutInput, 500)
	for i := range batch {
		batch[i] = shardlog.PutInput{PartitionKey: fmt.Sprint("key-", i), Data: []byte("x")}
	}
	for i := 0; i < 3; i++ {
		res, _ := s.PutBatch(ctx, batch)
		fmt.Println("failed:", res.FailedRecordCount)
	}
	// Output:
	// failed: 0
	// failed: 0
	// failed: 500
}

// Tail waits for new records until its context ends.
func ExampleStream_Tail() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, _ := shardlog.NewStream("events", 1)
	defer s.Close()
	go func() {
		for i := 0; i < 3; i++ {
			s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte(fmt.Sprint("live ", i))})
		}
	}()
	n := 0
	for rec, err := range s.Tail(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		if err != nil {
			break
		}
		fmt.Println(string(rec.Data))
		if n++; n == 3 {
			cancel()
		}
	}
	// Output:
	// live 0
	// live 1
	// live 2
}

// A reader that saves its Position resumes where it stopped, across
// reshards and (with WithDir) restarts.
func ExampleStream_ReadAllFrom() {
	ctx := context.Background()
	s, err := shardlog.NewStream("log", 2)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	for _, order := range []string{"#1", "#2", "#3"} {
		if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "customer-7", Data: []byte(order)}); err != nil {
			panic(err)
		}
	}
	pos, err := s.Position(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	if err != nil {
		panic(err)
	}
	read := func() {
		var got []string
		for rec, err := range s.ReadAllFrom(ctx, pos) {
			if err != nil {
				panic(err)
			}
			got = append(got, string(rec.Data))
			pos.Advance(rec) // saving pos here is checkpointing
			if string(rec.Data) == "#2" {
				break
			}
		}
		fmt.Println(strings.Join(got, " "))
	}
	read()
	if _, err := s.UpdateShardCount(ctx, shardlog.UpdateShardCountInput{TargetShardCount: 4, ScalingType: shardlog.UniformScaling}); err != nil {
		panic(err)
	}
	if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "customer-7", Data: []byte("#4")}); err != nil {
		panic(err)
	}
	read()
	// Output:
	// #1 #2
	// #3 #4
}

// An embedded log: no throughput limits, ten minutes of retention, at most
// 100 records. A reader that falls behind the bound hears what it missed.
func ExampleEmbeddedLog() {
	ctx := context.Background()
	log, err := shardlog.NewStream("events", 1,
		shardlog.EmbeddedLog(10*time.Minute),
		shardlog.WithSizeBound(shardlog.SizeBound{Records: 100}))
	if err != nil {
		panic(err)
	}
	defer log.Close()
	pos, err := log.Position(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	if err != nil {
		panic(err)
	}
	for i := range 150 {
		if _, err := log.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: fmt.Appendf(nil, "event %d", i)}); err != nil {
			panic(err)
		}
	}
	read := 0
	for rec, err := range log.ReadAllFrom(ctx, pos) {
		var lost *shardlog.LostRecordsError
		if errors.As(err, &lost) {
			fmt.Println("lost", lost.Count, "records")
			continue
		}
		if err != nil {
			panic(err)
		}
		if read++; read == 1 {
			fmt.Println("then from", string(rec.Data))
		}
	}
	fmt.Println("read", read)
	// Output:
	// lost 56 records
	// then from event 56
	// read 94
}

// A test makes the next two writes throttle, to see that its producer
// retries.
func ExampleAccount_InjectFault() {
	ctx := context.Background()
	acct, err := shardlog.NewAccount()
	if err != nil {
		panic(err)
	}
	defer acct.Close()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 1})
	if err != nil {
		panic(err)
	}
	if _, err := acct.InjectFault(shardlog.Fault{Operation: "PutRecord", Times: 2, Err: shardlog.ErrProvisionedThroughputExceeded}); err != nil {
		panic(err)
	}
	for attempt := 1; ; attempt++ {
		_, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte("order #1")})
		if errors.Is(err, shardlog.ErrProvisionedThroughputExceeded) {
			fmt.Println("attempt", attempt, "throttled")
			continue
		}
		fmt.Println("attempt", attempt, "err:", err)
		break
	}
	// Output:
	// attempt 1 throttled
	// attempt 2 throttled
	// attempt 3 err: <nil>
}

// A consumer unpacks records that a KPL-style producer aggregated.
func ExampleDeaggregate() {
	ctx := context.Background()
	s, err := shardlog.NewStream("events", 1)
	if err != nil {
		panic(err)
	}
	defer s.Close()
	packed := shardlog.AggregateRecords([]shardlog.PutInput{
		{PartitionKey: "user-1", Data: []byte("login")},
		{PartitionKey: "user-2", Data: []byte("logout")},
	})
	if _, err := s.Put(ctx, shardlog.PutInput{PartitionKey: "user-1", Data: packed}); err != nil {
		panic(err)
	}
	for rec, err := range s.ReadAll(ctx, shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
		if err != nil {
			panic(err)
		}
		for _, u := range shardlog.Deaggregate(nil, rec) {
			fmt.Println(u.SubSequenceNumber, u.PartitionKey, string(u.Data))
		}
	}
	// Output:
	// 0 user-1 login
	// 1 user-2 logout
}

// PutBatch is PutRecords: records fail one by one (throttled, say) while
// the call succeeds. Err turns the failures into one error.
func ExamplePutBatchOutput_Err() {
	ctx := context.Background()
	// AWS's limits (1000 records a second a shard), on a clock that stands
	// still: the third batch finds the second's worth spent.
	clock := shardlog.NewManualClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	s, err := shardlog.NewStream("orders", 1, shardlog.WithClock(clock))
	if err != nil {
		panic(err)
	}
	defer s.Close()
	batch := make([]shardlog.PutInput, 500)
	for i := range batch {
		batch[i] = shardlog.PutInput{PartitionKey: "k", Data: []byte("x")}
	}
	for range 3 {
		res, err := s.PutBatch(ctx, batch)
		if err == nil {
			err = res.Err()
		}
		var failed *shardlog.RecordError
		if errors.As(err, &failed) {
			fmt.Println("first failure: record", failed.Index, "retryable:", failed.Err.Retryable)
			fmt.Println("throttled:", errors.Is(err, shardlog.ErrProvisionedThroughputExceeded))
		}
	}
	// Output:
	// first failure: record 0 retryable: true
	// throttled: true
}
