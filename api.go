package shardlog

import (
	"context"
	"sync"
)

// StreamAPI is what an application needs of one Kinesis data stream to
// produce into it and consume from it: puts, shard listing, iterators and
// GetRecords, enhanced fan-out consumers and their subscriptions. Code
// written against it runs embedded, on a [*Stream], and on Amazon Kinesis
// through the module github.com/shardlog/shardlog/aws, which implements it
// over the AWS SDK: moving is a change of constructor, not a rewrite.
//
// Errors are the same on both: match them with errors.Is against the
// sentinels (ErrProvisionedThroughputExceeded, ErrResourceNotFound, ...).
// Inputs that name the stream (ListShardsInput's StreamRef,
// GetRecordsInput's StreamARN) may be left empty: the implementation
// names its stream.
type StreamAPI interface {
	// Name and ARN identify the stream.
	Name() string
	ARN() string

	// Put writes one record, as PutRecord.
	Put(ctx context.Context, in PutInput) (PutOutput, error)
	// PutBatch writes up to 500 records, as PutRecords: records can fail
	// one by one; see PutBatchOutput.
	PutBatch(ctx context.Context, records []PutInput) (PutBatchOutput, error)

	// ListShards lists the stream's shards, a page at a time.
	ListShards(ctx context.Context, in ListShardsInput) (ListShardsOutput, error)
	// GetShardIterator returns an iterator for reading shardID from p.
	GetShardIterator(ctx context.Context, shardID string, p StartingPosition) (string, error)
	// GetRecords reads from an iterator and returns the next one.
	GetRecords(ctx context.Context, in GetRecordsInput) (GetRecordsOutput, error)

	// RegisterStreamConsumer, DescribeStreamConsumer and
	// DeregisterStreamConsumer manage the stream's enhanced fan-out
	// consumers, by name.
	RegisterStreamConsumer(ctx context.Context, name string) (Consumer, error)
	DescribeStreamConsumer(ctx context.Context, name string) (Consumer, error)
	DeregisterStreamConsumer(ctx context.Context, name string) error
	// SubscribeToShard pushes in.ShardID's records from
	// in.StartingPosition to the consumer in.ConsumerName (or
	// in.ConsumerARN), for up to five minutes.
	SubscribeToShard(ctx context.Context, in SubscribeToShardInput) (*Subscription, error)
}

var _ StreamAPI = (*Stream)(nil)

// DescribeStreamConsumer is [Account.DescribeStreamConsumer] for the
// consumer of this stream registered as name.
func (s *Stream) DescribeStreamConsumer(ctx context.Context, name string) (Consumer, error) {
	return s.acct.DescribeStreamConsumer(ctx, ConsumerRef{StreamARN: s.arn, ConsumerName: name})
}

// DeregisterStreamConsumer is [Account.DeregisterStreamConsumer] for the
// consumer of this stream registered as name.
func (s *Stream) DeregisterStreamConsumer(ctx context.Context, name string) error {
	return s.acct.DeregisterStreamConsumer(ctx, ConsumerRef{StreamARN: s.arn, ConsumerName: name})
}

// NewSubscription returns a Subscription fed from outside this package,
// for implementations of [StreamAPI] over other transports. feed runs in
// a goroutine of its own: it passes each event to send, which reports
// false once the subscription has ended (feed should then return), and
// returns why the stream ended (nil for a clean end). Close cancels the
// context feed is given and waits for feed to return.
func NewSubscription(ctx context.Context, feed func(ctx context.Context, send func(SubscribeToShardEvent) bool) error) *Subscription {
	sub := &Subscription{
		events: make(chan SubscribeToShardEvent),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		defer close(sub.done)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // Close, or an end from elsewhere, cancels feed
			defer wg.Done()
			select {
			case <-sub.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		send := func(ev SubscribeToShardEvent) bool {
			select {
			case sub.events <- ev:
				return true
			case <-sub.stop:
				return false
			case <-ctx.Done():
				return false
			}
		}
		err := feed(ctx, send)
		if err != nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		sub.end(err) // the first reason wins: Close's nil, say
		cancel()
		wg.Wait()
		close(sub.events)
	}()
	return sub
}
