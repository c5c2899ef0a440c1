package shardlog

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"
)

// Every Kinesis operation opens in one frame, in this order:
//
//  1. access: the caller must be allowed, decided before anything of the
//     account is looked up, so that a denied caller learns nothing;
//  2. the account must be open, the call's context alive and, for an
//     operation on a stream, the stream not deleted;
//  3. a fault injected for the operation acts ([Account.InjectFault]);
//  4. the operation's control-plane rate is taken
//     (Limits.ControlPlaneRates).
//
// An operation on one shard takes steps 3 and 4 where it knows the shard
// (a fault or a rate can name it), PutRecords where it knows its records. Access is decided by the operation itself
// where the resource or the request's tags take part (tagging, consumers,
// resource policies); the frame then starts at step 2.

// scope is where an operation takes its fault and rate.
type scope uint8

const (
	inFrame   scope = iota // in the frame, for the stream (or the account)
	onShard                // where the shard it acts on is known
	onRecords              // PutRecords: where its records are, a fault failing some
)

// operations are the Kinesis operations shardlog implements: those
// [Account.InjectFault] can fail.
var operations = map[string]scope{
	"AddTagsToStream":               inFrame,
	"CreateStream":                  inFrame,
	"DecreaseStreamRetentionPeriod": inFrame,
	"DeleteResourcePolicy":          inFrame,
	"DeleteStream":                  inFrame,
	"DeregisterStreamConsumer":      inFrame,
	"DescribeLimits":                inFrame,
	"DescribeStream":                inFrame,
	"DescribeStreamConsumer":        inFrame,
	"DescribeStreamSummary":         inFrame,
	"DisableEnhancedMonitoring":     inFrame,
	"EnableEnhancedMonitoring":      inFrame,
	"GetRecords":                    onShard,
	"GetResourcePolicy":             inFrame,
	"GetShardIterator":              onShard,
	"IncreaseStreamRetentionPeriod": inFrame,
	"ListShards":                    inFrame,
	"ListStreamConsumers":           inFrame,
	"ListStreams":                   inFrame,
	"ListTagsForStream":             inFrame,
	"MergeShards":                   onShard,
	"PutRecord":                     onShard,
	"PutRecords":                    onRecords,
	"PutResourcePolicy":             inFrame,
	"RegisterStreamConsumer":        inFrame,
	"RemoveTagsFromStream":          inFrame,
	"SplitShard":                    onShard,
	"StartStreamEncryption":         inFrame,
	"StopStreamEncryption":          inFrame,
	"SubscribeToShard":              onShard,
	"UpdateShardCount":              inFrame,
	"UpdateStreamMode":              inFrame,
}

// operationNames lists the operations, for messages.
func operationNames() string {
	return strings.Join(slices.Sorted(maps.Keys(operations)), ", ")
}

// begin opens op's frame on s, access decided by s's policy, and returns
// the account's time.
func (s *Stream) begin(ctx context.Context, op string) (time.Time, error) {
	if err := s.authorize(ctx, op); err != nil {
		return time.Time{}, err
	}
	return s.entered(ctx, op)
}

// entered is begin for an operation that decided access itself.
func (s *Stream) entered(ctx context.Context, op string) (time.Time, error) {
	now, err := s.enter(ctx)
	if err != nil {
		return now, err
	}
	if operations[op] != inFrame {
		return now, nil
	}
	return now, s.acct.gate(ctx, op, s.name)
}

// gate is steps 3 and 4 of the frame for op on stream ("" for one on the
// account).
func (a *Account) gate(ctx context.Context, op, stream string) error {
	if err := a.fault(ctx, op, stream, -1); err != nil {
		return err
	}
	return a.admit(op, stream, 0)
}
