package aws

import (
	"context"
	"errors"
	"sync"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/schemas"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"

	"github.com/shardlog/shardlog"
)

// Stream is a Kinesis data stream on AWS (or any endpoint that speaks the
// Kinesis API, shardlogd included), as a [shardlog.StreamAPI].
type Stream struct {
	client *kinesis.Client
	name   string
	arn    string
	// byARN: the stream was opened by ARN, and calls name it so (it may be
	// another account's); else they name it by name, which every Kinesis
	// implementation takes, and AWS since the start.
	byARN bool
	// consumers caches the ARNs of ACTIVE consumers by name: a group
	// subscribes to every shard, and DescribeStreamConsumer allows 20
	// calls a second per stream.
	consumers sync.Map
}

var _ shardlog.StreamAPI = (*Stream)(nil)

// Open returns the stream ref names, after asking Kinesis for it
// (DescribeStreamSummary), so that a missing stream fails here.
func Open(ctx context.Context, client *kinesis.Client, ref shardlog.StreamRef) (*Stream, error) {
	in := &kinesis.DescribeStreamSummaryInput{}
	if ref.StreamARN != "" {
		in.StreamARN = sdk.String(ref.StreamARN)
	} else {
		in.StreamName = sdk.String(ref.StreamName)
	}
	out, err := client.DescribeStreamSummary(ctx, in, guardKinesis)
	if err != nil {
		return nil, mapError(err)
	}
	d := out.StreamDescriptionSummary
	return &Stream{client: client, name: sdk.ToString(d.StreamName), arn: sdk.ToString(d.StreamARN), byARN: ref.StreamARN != ""}, nil
}

// ref returns how a call that takes either names the stream: by name, or
// by ARN when it was opened by ARN.
func (s *Stream) ref() (name, arn *string) {
	if s.byARN {
		return nil, &s.arn
	}
	return &s.name, nil
}

// Name returns the stream's name.
func (s *Stream) Name() string { return s.name }

// ARN returns the stream's ARN.
func (s *Stream) ARN() string { return s.arn }

// Put writes one record with PutRecord.
func (s *Stream) Put(ctx context.Context, in shardlog.PutInput) (shardlog.PutOutput, error) {
	req := &kinesis.PutRecordInput{PartitionKey: sdk.String(in.PartitionKey), Data: nonNil(in.Data)}
	req.StreamName, req.StreamARN = s.ref()
	if in.ExplicitHashKey != "" {
		req.ExplicitHashKey = sdk.String(in.ExplicitHashKey)
	}
	if !in.SequenceNumberForOrdering.IsZero() {
		req.SequenceNumberForOrdering = sdk.String(in.SequenceNumberForOrdering.String())
	}
	out, err := s.client.PutRecord(ctx, req, guardKinesis)
	if err != nil {
		return shardlog.PutOutput{}, mapError(err)
	}
	seq, err := sequence(out.SequenceNumber)
	return shardlog.PutOutput{ShardID: sdk.ToString(out.ShardId), SequenceNumber: seq, EncryptionType: encryption(out.EncryptionType)}, err
}

// PutBatch writes up to 500 records with PutRecords. Records that fail
// (throttled, say) come back with their error in the result, in request
// order; the SDK does not retry them.
func (s *Stream) PutBatch(ctx context.Context, records []shardlog.PutInput) (shardlog.PutBatchOutput, error) {
	entries := make([]types.PutRecordsRequestEntry, len(records))
	for i, r := range records {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: sdk.String(r.PartitionKey), Data: nonNil(r.Data)}
		if r.ExplicitHashKey != "" {
			entries[i].ExplicitHashKey = sdk.String(r.ExplicitHashKey)
		}
	}
	req := &kinesis.PutRecordsInput{Records: entries}
	req.StreamName, req.StreamARN = s.ref()
	out, err := s.client.PutRecords(ctx, req, guardKinesis)
	if err != nil {
		return shardlog.PutBatchOutput{}, mapError(err)
	}
	res := shardlog.PutBatchOutput{FailedRecordCount: int(sdk.ToInt32(out.FailedRecordCount)), EncryptionType: encryption(out.EncryptionType),
		Records: make([]shardlog.BatchEntry, len(out.Records))}
	for i, r := range out.Records {
		e := shardlog.BatchEntry{ShardID: sdk.ToString(r.ShardId), ErrorCode: sdk.ToString(r.ErrorCode), ErrorMessage: sdk.ToString(r.ErrorMessage)}
		if e.ErrorCode == "" {
			if e.SequenceNumber, err = sequence(r.SequenceNumber); err != nil {
				return res, err
			}
		}
		res.Records[i] = e
	}
	return res, nil
}

// ListShards lists the stream's shards, a page at a time.
func (s *Stream) ListShards(ctx context.Context, in shardlog.ListShardsInput) (shardlog.ListShardsOutput, error) {
	req := &kinesis.ListShardsInput{}
	if in.NextToken != "" {
		req.NextToken = sdk.String(in.NextToken) // Kinesis refuses the stream beside a token
	} else {
		req.StreamName, req.StreamARN = s.ref()
		if in.ExclusiveStartShardID != "" {
			req.ExclusiveStartShardId = sdk.String(in.ExclusiveStartShardID)
		}
		if !in.StreamCreationTimestamp.IsZero() {
			req.StreamCreationTimestamp = sdk.Time(in.StreamCreationTimestamp)
		}
		if f := in.ShardFilter; f.Type != "" {
			req.ShardFilter = &types.ShardFilter{Type: types.ShardFilterType(f.Type)}
			if f.ShardID != "" {
				req.ShardFilter.ShardId = sdk.String(f.ShardID)
			}
			if !f.Timestamp.IsZero() {
				req.ShardFilter.Timestamp = sdk.Time(f.Timestamp)
			}
		}
	}
	if in.MaxResults != 0 {
		req.MaxResults = sdk.Int32(int32(in.MaxResults))
	}
	out, err := s.client.ListShards(ctx, req, guardKinesis)
	if err != nil {
		return shardlog.ListShardsOutput{}, mapError(err)
	}
	res := shardlog.ListShardsOutput{NextToken: sdk.ToString(out.NextToken), Shards: make([]shardlog.Shard, len(out.Shards))}
	for i, sh := range out.Shards {
		d := shardlog.Shard{ShardID: sdk.ToString(sh.ShardId), ParentShardID: sdk.ToString(sh.ParentShardId),
			AdjacentParentShardID: sdk.ToString(sh.AdjacentParentShardId), HashKeyRange: hashKeyRange(sh.HashKeyRange)}
		if r := sh.SequenceNumberRange; r != nil {
			if d.SequenceNumberRange.StartingSequenceNumber, err = sequence(r.StartingSequenceNumber); err != nil {
				return res, err
			}
			if r.EndingSequenceNumber != nil {
				if d.SequenceNumberRange.EndingSequenceNumber, err = sequence(r.EndingSequenceNumber); err != nil {
					return res, err
				}
			}
		}
		res.Shards[i] = d
	}
	return res, nil
}

// GetShardIterator returns an iterator for reading shardID from p.
func (s *Stream) GetShardIterator(ctx context.Context, shardID string, p shardlog.StartingPosition) (string, error) {
	req := &kinesis.GetShardIteratorInput{ShardId: sdk.String(shardID), ShardIteratorType: types.ShardIteratorType(p.Type)}
	req.StreamName, req.StreamARN = s.ref()
	if !p.SequenceNumber.IsZero() {
		req.StartingSequenceNumber = sdk.String(p.SequenceNumber.String())
	}
	if !p.Timestamp.IsZero() {
		req.Timestamp = sdk.Time(p.Timestamp)
	}
	out, err := s.client.GetShardIterator(ctx, req, guardKinesis)
	if err != nil {
		return "", mapError(err)
	}
	return sdk.ToString(out.ShardIterator), nil
}

// GetRecords reads from an iterator and returns the next one.
func (s *Stream) GetRecords(ctx context.Context, in shardlog.GetRecordsInput) (shardlog.GetRecordsOutput, error) {
	req := &kinesis.GetRecordsInput{ShardIterator: sdk.String(in.ShardIterator)} // the iterator names the stream
	_, req.StreamARN = s.ref()
	if in.Limit != 0 {
		req.Limit = sdk.Int32(int32(in.Limit))
	}
	out, err := s.client.GetRecords(ctx, req, guardKinesis)
	if err != nil {
		return shardlog.GetRecordsOutput{}, mapError(err)
	}
	recs, err := records(out.Records)
	return shardlog.GetRecordsOutput{Records: recs, NextShardIterator: sdk.ToString(out.NextShardIterator),
		MillisBehindLatest: sdk.ToInt64(out.MillisBehindLatest), ChildShards: childShards(out.ChildShards)}, err
}

// RegisterStreamConsumer registers an enhanced fan-out consumer.
func (s *Stream) RegisterStreamConsumer(ctx context.Context, name string) (shardlog.Consumer, error) {
	out, err := s.client.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: &s.arn, ConsumerName: sdk.String(name)}, guardKinesis)
	if err != nil {
		return shardlog.Consumer{}, mapError(err)
	}
	c := out.Consumer
	return shardlog.Consumer{ConsumerName: sdk.ToString(c.ConsumerName), ConsumerARN: sdk.ToString(c.ConsumerARN),
		ConsumerStatus: shardlog.ConsumerStatus(c.ConsumerStatus), ConsumerCreationTimestamp: sdk.ToTime(c.ConsumerCreationTimestamp), StreamARN: s.arn}, nil
}

// DescribeStreamConsumer describes the consumer registered as name.
func (s *Stream) DescribeStreamConsumer(ctx context.Context, name string) (shardlog.Consumer, error) {
	out, err := s.client.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{StreamARN: &s.arn, ConsumerName: sdk.String(name)}, guardKinesis)
	if err != nil {
		return shardlog.Consumer{}, mapError(err)
	}
	c := out.ConsumerDescription
	if c.ConsumerStatus == types.ConsumerStatusActive {
		s.consumers.Store(name, sdk.ToString(c.ConsumerARN))
	}
	return shardlog.Consumer{ConsumerName: sdk.ToString(c.ConsumerName), ConsumerARN: sdk.ToString(c.ConsumerARN),
		ConsumerStatus: shardlog.ConsumerStatus(c.ConsumerStatus), ConsumerCreationTimestamp: sdk.ToTime(c.ConsumerCreationTimestamp),
		StreamARN: sdk.ToString(c.StreamARN)}, nil
}

// consumerARN returns the ARN of the consumer registered as name.
func (s *Stream) consumerARN(ctx context.Context, name string) (string, error) {
	if arn, ok := s.consumers.Load(name); ok {
		return arn.(string), nil
	}
	c, err := s.DescribeStreamConsumer(ctx, name)
	return c.ConsumerARN, err
}

// DeregisterStreamConsumer deregisters the consumer registered as name.
func (s *Stream) DeregisterStreamConsumer(ctx context.Context, name string) error {
	s.consumers.Delete(name)
	_, err := s.client.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{StreamARN: &s.arn, ConsumerName: sdk.String(name)}, guardKinesis)
	return mapError(err)
}

// subscribe calls SubscribeToShard. The stream outlives the call: it gets a
// context of its own, which ctx cancels until the call returns, and cancel
// after.
func (s *Stream) subscribe(ctx context.Context, in shardlog.SubscribeToShardInput, pos *types.StartingPosition) (_ *kinesis.SubscribeToShardOutput, cancel func(), _ error) {
	arn := in.ConsumerARN
	if arn == "" {
		var err error
		if arn, err = s.consumerARN(ctx, in.ConsumerName); err != nil {
			return nil, nil, err
		}
	}
	shardID := in.ShardID
	streamCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stopCancelling := context.AfterFunc(ctx, cancel)
	out, err := s.client.SubscribeToShard(streamCtx, &kinesis.SubscribeToShardInput{ConsumerARN: sdk.String(arn), ShardId: sdk.String(shardID), StartingPosition: pos}, ownCodec, guardKinesis)
	stopCancelling()
	if err != nil {
		cancel()
		return nil, nil, mapError(err)
	}
	return out, cancel, nil
}

// ownCodec gives a subscription an event-stream codec of its own: the
// SDK's client shares one among all its streams, which race on it
// (aws/smithy-go#714) when a group subscribes to several shards.
func ownCodec(o *kinesis.Options) { o.Protocol = awsjson.New11(schemas.Kinesis_20131202) }

// SubscribeToShard pushes in.ShardID's records from in.StartingPosition to
// the consumer registered as in.ConsumerName (or in.ConsumerARN), through
// the SDK's event stream.
func (s *Stream) SubscribeToShard(ctx context.Context, in shardlog.SubscribeToShardInput) (*shardlog.Subscription, error) {
	p := in.StartingPosition
	pos := &types.StartingPosition{Type: types.ShardIteratorType(p.Type)}
	if !p.SequenceNumber.IsZero() {
		pos.SequenceNumber = sdk.String(p.SequenceNumber.String())
	}
	if !p.Timestamp.IsZero() {
		pos.Timestamp = sdk.Time(p.Timestamp)
	}
	_, cached := s.consumers.Load(in.ConsumerName)
	out, cancel, err := s.subscribe(ctx, in, pos)
	if errors.Is(err, shardlog.ErrResourceNotFound) && cached && in.ConsumerARN == "" {
		// Deregistered elsewhere, maybe registered again: ask once more.
		s.consumers.Delete(in.ConsumerName)
		out, cancel, err = s.subscribe(ctx, in, pos)
	}
	if err != nil {
		return nil, err
	}
	events := out.GetStream()
	return shardlog.NewSubscription(ctx, func(ctx context.Context, send func(shardlog.SubscribeToShardEvent) bool) error {
		defer cancel()
		defer events.Close()
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case ev, ok := <-events.Events():
				if !ok {
					return mapError(events.Err())
				}
				e, isEvent := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
				if !isEvent {
					continue // a union member this version does not know
				}
				out, err := event(e.Value)
				if err != nil {
					return err
				}
				if !send(out) {
					return nil
				}
			}
		}
	}), nil
}

// event turns an SDK event into shardlog's.
func event(v types.SubscribeToShardEvent) (shardlog.SubscribeToShardEvent, error) {
	recs, err := records(v.Records)
	if err != nil {
		return shardlog.SubscribeToShardEvent{}, err
	}
	ev := shardlog.SubscribeToShardEvent{Records: recs, MillisBehindLatest: sdk.ToInt64(v.MillisBehindLatest), ChildShards: childShards(v.ChildShards)}
	if v.ContinuationSequenceNumber != nil {
		if ev.ContinuationSequenceNumber, err = sequence(v.ContinuationSequenceNumber); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

func records(in []types.Record) ([]shardlog.Record, error) {
	out := make([]shardlog.Record, len(in))
	for i, r := range in {
		seq, err := sequence(r.SequenceNumber)
		if err != nil {
			return nil, err
		}
		out[i] = shardlog.Record{SequenceNumber: seq, ShardID: seq.ShardID(), PartitionKey: sdk.ToString(r.PartitionKey),
			Data: r.Data, ApproximateArrivalTimestamp: sdk.ToTime(r.ApproximateArrivalTimestamp).UTC()}
	}
	return out, nil
}

func childShards(in []types.ChildShard) []shardlog.ChildShard {
	if len(in) == 0 {
		return nil
	}
	out := make([]shardlog.ChildShard, len(in))
	for i, c := range in {
		out[i] = shardlog.ChildShard{ShardID: sdk.ToString(c.ShardId), ParentShards: c.ParentShards, HashKeyRange: hashKeyRange(c.HashKeyRange)}
	}
	return out
}

func hashKeyRange(r *types.HashKeyRange) shardlog.HashKeyRange {
	if r == nil {
		return shardlog.HashKeyRange{}
	}
	return shardlog.HashKeyRange{StartingHashKey: sdk.ToString(r.StartingHashKey), EndingHashKey: sdk.ToString(r.EndingHashKey)}
}

// sequence parses a sequence number Kinesis sent.
func sequence(s *string) (shardlog.SequenceNumber, error) {
	n, err := shardlog.ParseSequenceNumber(sdk.ToString(s))
	if err != nil {
		return n, &shardlog.Error{Code: shardlog.ErrInternalFailure.Code, Message: "Kinesis sent a sequence number that is not one: " + sdk.ToString(s)}
	}
	return n, nil
}

func encryption(t types.EncryptionType) shardlog.EncryptionType {
	if t == "" {
		return shardlog.EncryptionNone
	}
	return shardlog.EncryptionType(t)
}

// nonNil keeps empty data a blob: the SDK leaves a nil one out, which
// Kinesis refuses as a missing member.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
