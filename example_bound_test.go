package shardlog_test

import (
	"context"
	"fmt"
	"time"

	"github.com/shardlog/shardlog"
)

// An account-wide size bound caps all streams together: past it, the
// oldest records of the account go first, whichever stream holds them.
func ExampleWithAccountSizeBound() {
	ctx := context.Background()
	clock := shardlog.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	acct, _ := shardlog.NewAccount(shardlog.WithClock(clock), shardlog.WithAccountSizeBound(shardlog.SizeBound{Records: 4}))
	defer acct.Close()
	for _, name := range []string{"a", "b"} {
		acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: name, ShardCount: 1})
	}
	a, _ := acct.Stream(shardlog.StreamRef{StreamName: "a"})
	b, _ := acct.Stream(shardlog.StreamRef{StreamName: "b"})
	for i := range 5 {
		s := []*shardlog.Stream{a, b}[i%2]
		s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte(fmt.Sprint(s.Name(), i))})
		clock.Advance(time.Millisecond) // the oldest goes first: arrival times must differ
	}
	for _, s := range []*shardlog.Stream{a, b} {
		for r := range s.Records(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.TrimHorizon}) {
			fmt.Println(string(r.Data))
		}
	}
	// Output:
	// a2
	// a4
	// b1
	// b3
}

// A reader that keeps one output reads without allocating per record.
func ExampleAccount_GetRecordsInto() {
	ctx := context.Background()
	s, _ := shardlog.NewStream("events", 1)
	defer s.Close()
	for i := 1; i <= 3; i++ {
		s.Put(ctx, shardlog.PutInput{PartitionKey: "k", Data: []byte(fmt.Sprint("event ", i))})
	}
	it, _ := s.GetShardIterator(ctx, "shardId-000000000000", shardlog.StartingPosition{Type: shardlog.TrimHorizon})
	var out shardlog.GetRecordsOutput // reused: its Records are overwritten by each call
	for it != "" {
		if err := s.Account().GetRecordsInto(ctx, shardlog.GetRecordsInput{ShardIterator: it}, &out); err != nil {
			panic(err)
		}
		for _, r := range out.Records {
			fmt.Println(string(r.Data))
		}
		if len(out.Records) == 0 {
			break
		}
		it = out.NextShardIterator
	}
	// Output:
	// event 1
	// event 2
	// event 3
}
