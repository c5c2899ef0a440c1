package shardlog

import (
	"context"
	"errors"
	"time"
)

// A group in enhanced fan-out mode reads through a registered consumer
// named after its application, as the Kinesis Client Library does: each
// shard consumer subscribes at its checkpoint and subscribes again at the
// continuation sequence number whenever a subscription ends.

// fanOutConsumer returns the ARN of the group's registered consumer,
// registering it if need be and waiting until it is ACTIVE.
func (s *Stream) fanOutConsumer(ctx context.Context, name string) (string, error) {
	c, err := s.RegisterStreamConsumer(ctx, name)
	if errors.Is(err, ErrResourceInUse) { // another worker registered it
		c, err = s.acct.DescribeStreamConsumer(ctx, ConsumerRef{StreamARN: s.arn, ConsumerName: name})
	}
	for err == nil && c.ConsumerStatus == ConsumerCreating {
		if err = s.acct.sleep(ctx, time.Second); err == nil {
			c, err = s.acct.DescribeStreamConsumer(ctx, ConsumerRef{ConsumerARN: c.ConsumerARN})
		}
	}
	if err == nil && c.ConsumerStatus != ConsumerActive {
		err = newError(ErrResourceInUse, "Consumer %s is %s.", c.ConsumerARN, c.ConsumerStatus)
	}
	return c.ConsumerARN, err
}

// readFanOut is read for a group in enhanced fan-out mode.
func (c *shardConsumer) readFanOut() (in ProcessRecordsInput, more bool) {
	w, sh := c.w, c.sh
	for {
		if c.ended {
			return in, false
		}
		if c.stopped() {
			return in, true
		}
		if c.sub == nil {
			p := StartingPosition{Type: AfterSequenceNumber, SequenceNumber: sh.before(c.pos)}
			sub, err := w.s.acct.SubscribeToShard(w.ctx, w.consumerARN, sh.id, p)
			if err != nil {
				// Too soon after the last one, or the consumer is gone: try
				// again after a while, unless told to stop.
				w.s.acct.cfg.log.Warn("shardlog: a group could not subscribe to a shard", "shard", sh.id, "err", err)
				if !c.sleep(time.Second) {
					return in, true
				}
				continue
			}
			c.sub = sub
		}
		select {
		case ev, ok := <-c.sub.Events():
			if !ok {
				err := c.sub.Err()
				c.sub = nil
				if errors.Is(err, ErrResourceInUse) && !w.stillHolds(c.h) {
					// The worker that took the lease subscribed: stop now
					// rather than at the next renewal, or the two would
					// take the shard from each other.
					w.loseLease(c.h)
					return in, true
				}
				continue // its five minutes are up: subscribe again
			}
			c.ended = ev.ContinuationSequenceNumber.IsZero() // the last event of a closed shard
			if in = c.fanOutBatch(ev); len(in.Records) > 0 || in.Lost != nil {
				return in, true
			}
		case <-c.h.quit:
			return in, true
		}
	}
}

// fanOutBatch turns an event into a batch. The event's records are handed
// on as they are: they stay valid until the next receive, which follows
// ProcessRecords.
func (c *shardConsumer) fanOutBatch(ev SubscribeToShardEvent) ProcessRecordsInput {
	in := ProcessRecordsInput{Records: ev.Records, Checkpointer: &c.cp, MillisBehindLatest: ev.MillisBehindLatest}
	if n := len(ev.Records); n > 0 {
		first := ev.Records[0].SequenceNumber.n.Counter - 1 // a record's position
		if first > c.pos {
			in.Lost = c.sh.lost(c.pos, first)
		}
		c.cp.last = ev.Records[n-1].SequenceNumber
		c.pos = c.cp.last.n.Counter
	}
	return in
}

// closeSub ends the shard consumer's subscription, if any.
func (c *shardConsumer) closeSub() {
	if c.sub != nil {
		c.sub.Close()
		c.sub = nil
	}
}
